extension CronSchedule {
    /// Why no date has the days and months asked for (`0 0 31 2 *`: February has no day 31), or
    /// nil when one does. Such a schedule would be accepted and never fire. A weekday given beside
    /// the day (not starred) fires on its own, as in Vixie cron, so that schedule always can.
    var impossibleDays: String? {
        guard dayIsStar || weekdayIsStar else { return nil }
        let chosen = (1...12).filter { months & (1 << $0) != 0 }
        // The longest each month gets: a day that fits one of them comes round on every weekday.
        let fits = chosen.contains { month in (1...Self.longest[month - 1]).contains { days & (1 << $0) != 0 } }
        guard !fits else { return nil }
        let names = chosen.map { Self.monthNames[$0 - 1] }
        let monthList = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " and " + names.last!
        // Only 30 and 31 can be missing from every month.
        let dayList = (30...31).filter { days & (1 << $0) != 0 }.map(String.init).joined(separator: " or ")
        return "\(monthList) \(names.count == 1 ? "has" : "have") no day \(dayList)"
    }

    static let impossibleDaysNote = "February has 28 days (29 in a leap year); April, June, September and November have 30"

    private static let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    private static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August",
                                     "September", "October", "November", "December"]
}
