import Flows
import Foundation
import Testing
@testable import ZoomConnector

/// How `start` becomes Zoom's `start_time`.
@Suite struct ZoomStartTimeTests {
    static let moscow = TimeZone(identifier: "Europe/Moscow")!
    /// 2030-12-01 23:30 in Moscow (20:30 UTC).
    static let lateEvening = ISO8601DateFormatter().date(from: "2030-12-01T20:30:00Z")!

    @Test(arguments: [
        ("19:00", "2030-12-01T19:00:00"),
        ("9:30", "2030-12-01T09:30:00"),
        ("19:00:15", "2030-12-01T19:00:15"),
        ("2030-12-05T19:00", "2030-12-05T19:00:00"),
        ("2030-12-05T19:00:00", "2030-12-05T19:00:00"),
        ("2030-12-05T19:00:00+03:00", "2030-12-05T16:00:00Z"),
        ("2030-12-05T16:00:00Z", "2030-12-05T16:00:00Z"),
        ("2030-12-05T16:00:00.250Z", "2030-12-05T16:00:00Z"),
    ])
    func reads(_ start: String, _ sent: String) throws {
        #expect(try ZoomStartTime(start, zone: Self.moscow, reference: Self.lateEvening).text == sent)
    }

    @Test func theDayIsTheReferenceDayInTheMeetingsZone() throws {
        // 20:30 UTC on Dec 1 is already Dec 2 in Vladivostok.
        let vladivostok = TimeZone(identifier: "Asia/Vladivostok")!
        #expect(try ZoomStartTime("19:00", zone: vladivostok, reference: Self.lateEvening).text == "2030-12-02T19:00:00")
    }

    @Test(arguments: ["24:00", "19:60", "7", "19h", "1140", "", "2030-13-01T10:00:00"])
    func refuses(_ start: String) {
        #expect(throws: ConnectorError.self) { try ZoomStartTime(start, zone: Self.moscow, reference: Self.lateEvening) }
    }
}
