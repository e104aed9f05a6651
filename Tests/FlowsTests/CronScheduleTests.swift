import Foundation
import Testing
@testable import Flows

private func instant(_ iso: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = iso.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
    guard let date = formatter.date(from: iso) else { fatalError("bad ISO8601 instant \(iso)") }
    return date
}

private func zone(_ identifier: String) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else { fatalError("unknown time zone \(identifier)") }
    return zone
}

private func parseError(_ text: String) -> CronSchedule.ParseError? {
    do {
        _ = try CronSchedule(parsing: text)
        return nil
    } catch {
        return error
    }
}

@Test(arguments: [
    "* * * * *", "*/15 9-17 * * mon-fri", "0 0 1,15 * *", "30 2 * JAN-mar,dec sun", "0 12 * * 7",
    "5/10 * * * *", "0 0-23/6 * * *", "  0  9 *\t* *  ", "@daily", "@HOURLY", "@annually",
    "0 0 29 2 *", "0 0 31 2,3 *", "0 0 31 2 mon", "0 0 30 2 1-5",
])
func cronParsesValidExpressions(text: String) throws {
    let schedule = try CronSchedule(parsing: text)
    #expect(schedule.text == text)
    #expect(schedule.description == text)
}

@Test(arguments: [
    ("0 9 * *", "cron needs 5 fields (minute hour day month weekday), found 4", 7),
    ("0 9 * * * *", "cron needs 5 fields (minute hour day month weekday), found 6", 10),
    ("", "cron needs 5 fields (minute hour day month weekday), found 0", 0),
    ("0 25 * * *", "cron field 'hour' value 25 is out of range 0-23", 2),
    ("60 * * * *", "cron field 'minute' value 60 is out of range 0-59", 0),
    ("0 0 0 * *", "cron field 'day' value 0 is out of range 1-31", 4),
    ("0 0 * 13 *", "cron field 'month' value 13 is out of range 1-12", 6),
    ("0 0 * * 8", "cron field 'weekday' value 8 is out of range 0-7", 8),
    ("*/0 * * * *", "cron field 'minute' step '0' must be a whole number of at least 1", 2),
    ("0 0 5-1 * *", "cron field 'day' range 5-1 is reversed; write the smaller value first", 4),
    ("0 9 * * fri-mon", "cron field 'weekday' range fri-mon is reversed; write the smaller value first", 8),
    ("0 0 * foo *", "cron field 'month' has unknown value 'foo'", 6),
    ("mon * * * *", "cron field 'minute' has unknown value 'mon'", 0),
    ("1,,2 * * * *", "cron field 'minute' has an empty list entry", 2),
    ("0 9 * * mon-", "cron field 'weekday' is missing a value", 12),
    ("@reboot", "unknown cron shortcut '@reboot'", 0),
    ("0 0 31 2 *", "this schedule never fires: February has no day 31", 4),
    ("0 0 30 2 *", "this schedule never fires: February has no day 30", 4),
    ("0 0 30,31 feb *", "this schedule never fires: February has no day 30 or 31", 4),
    ("0 0 31 4,6,9,11 *", "this schedule never fires: April, June, September and November have no day 31", 4),
    ("0 0 31 2,4 *", "this schedule never fires: February and April have no day 31", 4),
    ("0 0 30 2 */2", "this schedule never fires: February has no day 30", 4),  // a starred weekday narrows, as in Vixie cron
])
func cronRejectsInvalidExpressions(text: String, message: String, offset: Int) {
    let error = parseError(text)
    #expect(error?.message == message)
    #expect(error?.offset == offset)
    #expect(error?.notes.isEmpty == false)
}

@Test func cronFieldCountErrorShowsAnExample() {
    #expect(parseError("0 9 * *")?.notes == [#"example: "0 9 * * *" runs at 09:00 every day"#])
}

@Test(arguments: [
    ("* * * * *", "UTC", "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"),
    ("* * * * *", "UTC", "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z"),
    ("0 9 * * *", "UTC", "2026-01-01T09:00:00.500Z", "2026-01-02T09:00:00Z"),
    ("0 9 * * *", "Europe/Moscow", "2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z"),
    ("0 9 * * *", "Europe/Moscow", "2026-01-01T06:00:00Z", "2026-01-02T06:00:00Z"),
    ("@hourly", "Europe/Moscow", "2026-01-01T06:30:00Z", "2026-01-01T07:00:00Z"),
    ("*/15 * * * *", "UTC", "2026-01-01T10:07:00Z", "2026-01-01T10:15:00Z"),
    ("*/15 * * * *", "UTC", "2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z"),
    ("0 9 * * mon-fri", "UTC", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z"),
    ("0 8,12,18 * * *", "UTC", "2026-01-01T12:00:00Z", "2026-01-01T18:00:00Z"),
    ("0 0 1 jan,JUL *", "UTC", "2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z"),
    ("0 0 * * 7", "UTC", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"),
    // Both day fields restricted: either may match (Vixie cron).
    ("0 0 1 * mon", "UTC", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"),
    ("0 0 1 * mon", "UTC", "2026-01-26T00:00:00Z", "2026-02-01T00:00:00Z"),
    // A day field starting with `*` makes both fields required.
    ("0 0 */10 * mon", "UTC", "2026-01-01T00:00:00Z", "2026-05-11T00:00:00Z"),
    ("0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z"),
    ("0 0 30 * *", "UTC", "2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z"),
    ("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"),
    ("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"),
    ("59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"),
    // Berlin spring forward 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 fires at 03:00.
    ("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"),
    ("30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"),
    ("*/15 * * * *", "Europe/Berlin", "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z"),
    ("*/15 * * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"),
    ("30 2 * * *", "America/New_York", "2026-03-08T00:00:00Z", "2026-03-08T07:00:00Z"),
    // Berlin fall back 2026-10-25: 02:30 happens at 00:30Z (CEST) and 01:30Z (CET); only the first fires.
    ("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"),
    ("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"),
    ("30 2 * * *", "Europe/Berlin", "2026-10-25T01:10:00Z", "2026-10-26T01:30:00Z"),
    ("0 3 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z"),
])
func cronNextFire(text: String, timeZone: String, after: String, expected: String) throws {
    let schedule = try CronSchedule(parsing: text)
    #expect(schedule.next(after: instant(after), in: zone(timeZone)) == instant(expected))
}

@Test func cronLeapDayFiresAcrossACenturyYear() throws {
    let schedule = try CronSchedule(parsing: "0 0 29 2 *")
    #expect(schedule.next(after: instant("2096-03-01T00:00:00Z"), in: zone("UTC")) == instant("2104-02-29T00:00:00Z"))
}

@Test(arguments: [
    ("0 * * * *", "UTC", "2026-01-01T00:00:00Z", "2026-01-01T05:00:00Z", 10, 5),
    ("0 * * * *", "UTC", "2026-01-01T00:00:00Z", "2026-01-01T05:00:00Z", 3, 3),
    ("0 * * * *", "UTC", "2026-01-01T00:00:00Z", "2026-01-01T05:00:00Z", 0, 0),
    ("0 * * * *", "UTC", "2026-01-01T00:30:00Z", "2026-01-01T00:59:00Z", 10, 0),
    ("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-26T12:00:00Z", 10, 2),
    ("*/30 * * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z", 10, 4),
])
func cronSlotsAreOrderedBoundedAndLimited(
    text: String, timeZone: String, from: String, through: String, limit: Int, count: Int
) throws {
    let schedule = try CronSchedule(parsing: text)
    let slots = schedule.slots(after: instant(from), through: instant(through), in: zone(timeZone), limit: limit)
    #expect(slots.count == count)
    #expect(slots == slots.sorted())
    #expect(slots.allSatisfy { $0 > instant(from) && $0 <= instant(through) })
}

@Test("the newest slots, found backwards, are the last of the slots found forwards, across DST", arguments: [
    ("* * * * *", "Europe/Berlin", "2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z"),
    ("* * * * *", "Europe/Berlin", "2026-03-28T23:00:00Z", "2026-03-29T03:00:00Z"),
    ("30 2 * * *", "Europe/Berlin", "2026-03-01T00:00:00Z", "2026-11-01T00:00:00Z"),
    ("*/20 1-3 * * *", "America/New_York", "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z"),
    ("*/20 1-3 * * *", "America/New_York", "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z"),
    ("0 0 29 2 *", "UTC", "2023-01-01T00:00:00Z", "2033-01-01T00:00:00Z"),
    ("0 9 1,15 * mon", "Europe/Moscow", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"),
    ("0 * * * *", "UTC", "2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z"),
])
func cronLatestSlotsMatchForwardSlots(text: String, timeZone: String, from: String, through: String) throws {
    let schedule = try CronSchedule(parsing: text)
    let forward = schedule.slots(after: instant(from), through: instant(through), in: zone(timeZone), limit: 10_000)
    #expect(!forward.isEmpty)
    for limit in [1, 5, 10_000] {
        let backward = schedule.latestSlots(after: instant(from), through: instant(through), in: zone(timeZone), limit: limit)
        #expect(backward == Array(forward.suffix(limit)))
    }
}

@Test func cronSlotsListExactInstants() throws {
    let schedule = try CronSchedule(parsing: "0 * * * *")
    let slots = schedule.slots(after: instant("2026-01-01T00:00:00Z"), through: instant("2026-01-01T03:00:00Z"),
                               in: zone("UTC"), limit: 10)
    #expect(slots == ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"].map(instant))
}
