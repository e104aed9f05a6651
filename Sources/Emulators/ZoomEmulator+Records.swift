import Flows

// The value types the Zoom emulator hands to tests; they live in a `ZoomEmulator+…` file
// because the emulator owns only files of that name.

/// A meeting the emulator created, as the API answered it (including the host's `start_url`,
/// so tests can check it never leaves the connector).
public struct ZoomEmulatedMeeting: Sendable, Hashable {
    public var id: Int64
    /// The `userId` of the create call.
    public var hostUserID: String
    public var topic: String
    /// As answered: UTC, `yyyy-MM-ddTHH:mm:ssZ`.
    public var startTime: String
    /// The `start_time` the request carried, as written (nil when it had none).
    public var requestedStartTime: String?
    public var timezone: String
    public var duration: Int
    public var password: String
    public var joinURL: String
    public var startURL: String
    public var waitingRoom: Bool
    /// The whole 201 answer.
    public var response: Value
}
