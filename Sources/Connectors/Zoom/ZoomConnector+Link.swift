import Flows

extension ZoomConnector {
    static let linkSpec = ActionSpec(
        name: "link", summary: "Returns the standing meeting link from the config (meeting_url, ZOOM_MEETING_URL).",
        outputs: [.output("join_url", .string, "the standing meeting link")],
        hasSideEffects: false,
        example: "do: zoom.link")

    /// The configured standing link; nothing is called.
    func link(_ call: ActionCall) throws(ConnectorError) -> Value {
        guard let url = settings.meetingURL else {
            throw .permanent("zoom-no-meeting-url", "zoom.link needs 'meeting_url' (ZOOM_MEETING_URL): the standing meeting link to hand out")
        }
        return ["join_url": .string(url)]
    }
}
