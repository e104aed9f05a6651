import Foundation

extension CronSchedule {
    /// The first fire time strictly after `date`, evaluated in wall-clock time of `timeZone`.
    ///
    /// Daylight-saving policy, as in cronie and systemd: a wall time that a spring-forward gap skips
    /// (02:30 in Europe/Berlin on the last Sunday of March) fires once, at the first instant after
    /// the gap (03:00 local); a wall time that a fall-back overlap repeats fires once, at its first
    /// occurrence. Returns nil when nothing matches within eight years (parsing already turns down
    /// a day no month given has, such as `0 0 31 2 *`); eight rather than fewer so `0 0 29 2 *`
    /// still finds a leap day across a century year like 2100.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, abs(seconds) < 1e15 else { return nil }
        let local = Int(seconds.rounded(.down)) + timeZone.secondsFromGMT(for: date)
        var wall = Wall(seconds: local - floorMod(local, 60) + 60)
        let lastYear = wall.year + 8
        while let found = nextMatch(from: wall, through: lastYear) {
            let fire = found.instant(in: timeZone)
            if fire > date { return fire }
            // Only a fall-back overlap lands here: this wall time's first occurrence has already passed.
            wall = Wall(seconds: found.seconds + 60)
        }
        return nil
    }

    /// All slots in (from, through], at most `limit`, in order (used for missed-slot policy).
    public func slots(after from: Date, through: Date, in timeZone: TimeZone, limit: Int) -> [Date] {
        var result: [Date] = []
        var cursor = from
        while result.count < limit, let fire = next(after: cursor, in: timeZone), fire <= through {
            result.append(fire)
            cursor = fire
        }
        return result
    }

    /// The newest slots in (from, through], at most `limit`, in order: the slots a catch-up may
    /// run, found from `through` backwards so the older ones are never walked through.
    public func latestSlots(after from: Date, through: Date, in timeZone: TimeZone, limit: Int) -> [Date] {
        var result: [Date] = []
        var cursor = through, inclusive = true
        while result.count < limit, let fire = previous(cursor, inclusive: inclusive, in: timeZone), fire > from {
            result.append(fire)
            (cursor, inclusive) = (fire, false)
        }
        return result.reversed()
    }

    /// The last fire time before `date` (or at it, if `inclusive`): the mirror of `next(after:in:)`,
    /// with the same daylight-saving policy.
    func previous(_ date: Date, inclusive: Bool, in timeZone: TimeZone) -> Date? {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, abs(seconds) < 1e15 else { return nil }
        let whole = Int(seconds.rounded(.down))
        // Start from the latest wall time `date` can read as (the larger offset around it), so the
        // wall times of a fall-back overlap's second hour, whose slots fired an hour earlier, are seen.
        let offset = [whole - 86_400, whole, whole + 86_400]
            .map { timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double($0))) }.max()!
        let local = whole + offset
        var wall = Wall(seconds: local - floorMod(local, 60))
        let firstYear = wall.year - 8
        while let found = previousMatch(from: wall, through: firstYear) {
            let fire = found.instant(in: timeZone)
            if fire < date || inclusive && fire == date { return fire }
            wall = Wall(seconds: found.seconds - 60)
        }
        return nil
    }

    /// The last matching wall time at or before `start`, skipping whole months and days that cannot match.
    private func previousMatch(from start: Wall, through firstYear: Int) -> Wall? {
        var w = start
        while w.year >= firstYear {
            let midnight = Wall(year: w.year, month: w.month, day: w.day, hour: 0, minute: 0).seconds
            if months & (1 << w.month) == 0 {
                w = Wall(seconds: midnight - (w.day - 1) * 86_400 - 60)
                continue
            }
            if matchesDay(w) {
                var (h, m) = (w.hour, w.minute)
                while let hour = Self.lastSet(hours, upTo: h) {
                    if hour != h { m = 59 }
                    if let minute = Self.lastSet(minutes, upTo: m) {
                        return Wall(year: w.year, month: w.month, day: w.day, hour: hour, minute: minute)
                    }
                    guard hour > 0 else { break }
                    (h, m) = (hour - 1, 59)
                }
            }
            w = Wall(seconds: midnight - 60)
        }
        return nil
    }

    /// The largest set bit at or below `value`.
    private static func lastSet(_ bits: UInt64, upTo value: Int) -> Int? {
        let rest = value >= 63 ? bits : bits & ((1 << (value + 1)) - 1)
        return rest == 0 ? nil : 63 - rest.leadingZeroBitCount
    }

    /// The first matching wall time at or after `start`, skipping whole months and days that cannot match.
    private func nextMatch(from start: Wall, through lastYear: Int) -> Wall? {
        var w = start
        while w.year <= lastYear {
            if w.month > 12 {
                w = Wall(year: w.year + 1, month: 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if w.day > Wall.daysIn(w.year, w.month) || months & (1 << w.month) == 0 {
                w = Wall(year: w.year, month: w.month + 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if matchesDay(w) {
                var (h, m) = (w.hour, w.minute)
                while let hour = Self.firstSet(hours, from: h) {
                    if hour != h { m = 0 }
                    if let minute = Self.firstSet(minutes, from: m) {
                        return Wall(year: w.year, month: w.month, day: w.day, hour: hour, minute: minute)
                    }
                    (h, m) = (hour + 1, 0)
                }
            }
            w = Wall(year: w.year, month: w.month, day: w.day + 1, hour: 0, minute: 0)
        }
        return nil
    }

    private func matchesDay(_ w: Wall) -> Bool {
        let day = days & (1 << w.day) != 0
        let weekday = weekdays & (1 << w.weekday) != 0
        return dayIsStar || weekdayIsStar ? day && weekday : day || weekday
    }

    /// The smallest set bit at or above `value`.
    private static func firstSet(_ bits: UInt64, from value: Int) -> Int? {
        let rest = value < 64 ? bits >> value : 0
        return rest == 0 ? nil : value + rest.trailingZeroBitCount
    }
}

/// A proleptic Gregorian wall-clock minute, free of any time zone, so the search never meets DST.
private struct Wall {
    var year, month, day, hour, minute: Int
}

extension Wall {
    /// From seconds since 1970 read as wall time; civil-from-days after Howard Hinnant.
    init(seconds: Int) {
        let rest = floorMod(seconds, 86_400)
        let z = (seconds - rest) / 86_400 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (month <= 2 ? 1 : 0), month: month, day: doy - (153 * mp + 2) / 5 + 1,
                  hour: rest / 3600, minute: rest % 3600 / 60)
    }

    var daysSince1970: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }

    var seconds: Int { daysSince1970 * 86_400 + hour * 3600 + minute * 60 }

    /// 0 is Sunday; 1970-01-01 was a Thursday.
    var weekday: Int { floorMod(daysSince1970 + 4, 7) }

    static func daysIn(_ year: Int, _ month: Int) -> Int {
        if month != 2 { return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] }
        return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
    }

    /// The instant this wall time names in `zone`: the earlier one in an overlap, the end of a gap.
    func instant(in zone: TimeZone) -> Date {
        func offset(_ t: Int) -> Int { zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t))) }
        let naive = seconds
        let before = offset(naive - 86_400), after = offset(naive + 86_400)
        // The larger offset gives the earlier instant, so checking it first picks the first occurrence.
        let candidates = [naive - max(before, after), naive - min(before, after)]
        if let valid = candidates.first(where: { naive - $0 == offset($0) }) {
            return Date(timeIntervalSince1970: Double(valid))
        }
        // In a gap neither candidate is valid; the transition between them is the first instant after it.
        var (low, high) = (candidates[0], candidates[1])
        let lowOffset = offset(low)
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if offset(mid) == lowOffset { low = mid } else { high = mid }
        }
        return Date(timeIntervalSince1970: Double(high))
    }
}

private func floorMod(_ a: Int, _ b: Int) -> Int {
    let r = a % b
    return r < 0 ? r + b : r
}
