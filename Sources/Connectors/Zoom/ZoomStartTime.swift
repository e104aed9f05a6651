import Flows
import Foundation

/// A meeting's `start_time` as Zoom's create call takes it: `yyyy-MM-ddTHH:mm:ss` (local to the
/// meeting's `timezone`) or `yyyy-MM-ddTHH:mm:ssZ` (UTC).
struct ZoomStartTime: Sendable, Hashable {
    /// The value sent as `start_time`.
    let text: String

    /// Reads `start`: `HH:mm` on the day of `reference` in `zone` (the schedule slot's day, so a
    /// run that resumes after midnight still books the slot's day), an ISO 8601 date-time with
    /// an offset (sent in UTC), or one without (local to `zone`).
    init(_ start: String, zone: TimeZone, reference: Date) throws(ConnectorError) {
        let value = start.trimmingCharacters(in: .whitespaces)
        if let (hour, minute, second) = Self.clockTime(value) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let day = calendar.dateComponents([.year, .month, .day], from: reference)
            guard let year = day.year, let month = day.month, let dayOfMonth = day.day else { throw Self.bad(start, zone) }
            text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", year, month, dayOfMonth, hour, minute, second)
            return
        }
        let iso = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
            iso.formatOptions = options
            if let date = iso.date(from: value) {
                iso.formatOptions = [.withInternetDateTime]
                iso.timeZone = TimeZone(identifier: "UTC")
                text = iso.string(from: date)
                return
            }
        }
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = zone
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm"] {
            local.dateFormat = format
            if let date = local.date(from: value) {
                local.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
                text = local.string(from: date)
                return
            }
        }
        throw Self.bad(start, zone)
    }

    /// `19:00`, `9:30` or `19:00:00`.
    static func clockTime(_ value: String) -> (Int, Int, Int)? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3,
              parts[0].count <= 2, parts.dropFirst().allSatisfy({ $0.count == 2 }),
              let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        let second = parts.count == 3 ? Int(parts[2]) : 0
        guard let second, (0..<60).contains(second) else { return nil }
        return (hour, minute, second)
    }

    static func bad(_ start: String, _ zone: TimeZone) -> ConnectorError {
        .permanent("bad-start", "'start' must be a time such as 19:00 (that day in \(zone.identifier)) or an ISO 8601 date-time "
            + "such as 2026-12-01T19:00:00+03:00, found '\(start)'")
    }
}
