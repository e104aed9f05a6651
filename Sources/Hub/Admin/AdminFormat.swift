import Foundation
import Flows

/// Dates and numbers as the dashboard shows them, in the shop's time zone.
/// A new value per request: `DateFormatter` is not safe to share between tasks.
struct AdminFormat {
    let timeZone: TimeZone
    private let formatter: DateFormatter
    private let dayFormatter: DateFormatter

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
        formatter = DateFormatter()
        formatter.locale = Locale(identifier: "ru_RU")
        formatter.timeZone = timeZone
        formatter.dateFormat = "dd.MM.yyyy HH:mm"
        dayFormatter = DateFormatter()
        dayFormatter.locale = Locale(identifier: "en_US_POSIX")
        dayFormatter.timeZone = timeZone
        dayFormatter.dateFormat = "yyyy-MM-dd"
    }

    /// `dd.MM.yyyy HH:mm`, or an empty string for a missing time.
    func date(_ millis: Int64?) -> String {
        guard let millis, millis > 0 else { return "" }
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    /// `yyyy-MM-dd` (an `<input type=date>` value) → the first millisecond of that day in the zone.
    func dayStart(_ text: String?) -> Int64? {
        guard let text, !text.isEmpty, let date = dayFormatter.date(from: text) else { return nil }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    /// The zone's offset from UTC now, in milliseconds (for grouping by day in SQL).
    var offsetMillis: Int64 { Int64(timeZone.secondsFromGMT()) * 1000 }
}

extension Value {
    /// An epoch-millisecond column, whichever way the database returned it.
    var millisValue: Int64? { intValue.map(Int64.init) }
}
