import Flows

extension ZoomConnector {
    /// The declaration that drives config checking, flow checking and the docs.
    public static let spec = ConnectorSpec(
        name: "zoom",
        summary: "Zoom meetings: creates the day's meeting (Server-to-Server OAuth) or hands out a standing meeting link.",
        defaultInstance: "zoom",
        config: [
            .optional(Key.accountID, .string, "the Server-to-Server OAuth app's Account ID; needed by create_meeting",
                      environment: "ZOOM_ACCOUNT_ID"),
            .optional(Key.clientID, .string, "the app's Client ID; needed by create_meeting", environment: "ZOOM_CLIENT_ID"),
            .optional(Key.clientSecret, .string, "the app's Client Secret; needed by create_meeting", secret: true,
                      environment: "ZOOM_CLIENT_SECRET"),
            .optional(Key.apiURL, .string, "REST API base URL", default: .string(ZoomSettings.defaultAPIURL), environment: "ZOOM_API_URL"),
            .optional(Key.oauthURL, .string, "OAuth base URL (the token endpoint is /oauth/token under it)",
                      default: .string(ZoomSettings.defaultOAuthURL), environment: "ZOOM_OAUTH_URL"),
            .optional(Key.host, .string, "the meetings' host: a Zoom user id or e-mail of the account ('me' does not work "
                      + "with Server-to-Server apps); needed by create_meeting", environment: "ZOOM_HOST"),
            .optional(Key.meetingURL, .string, "a standing meeting link, handed out by zoom.link (for shops without a Zoom app)",
                      environment: "ZOOM_MEETING_URL"),
            .optional(Key.timezone, .string, "IANA time zone of meeting times such as 19:00", default: .string(ZoomSettings.defaultTimezone)),
        ],
        actions: [createMeetingSpec, linkSpec]
    )
}
