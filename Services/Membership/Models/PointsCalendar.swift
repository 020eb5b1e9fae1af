import Foundation

/// When points expire and when the reminders before that go out. Points are cleared once a
/// year at the end of the clearing day (midnight after it, in the brand's time zone). Points
/// earned within the grace period before a clearing are spared by it and expire at the next
/// one: a member who joined on 30 December keeps them.
struct PointsCalendar: Sendable, Equatable {
    var clearingMonth = 12
    var clearingDay = 31
    var graceDays = 90
    var timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
    /// Days before a clearing on which members with expiring points are reminded.
    var reminderDays = [30, 7, 3]

    var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The clearing of a given year: the first instant after that year's clearing day.
    func clearing(ofYear year: Int) -> Date {
        let day = calendar.date(from: DateComponents(year: year, month: clearingMonth, day: clearingDay)) ?? .distantFuture
        return calendar.date(byAdding: .day, value: 1, to: day) ?? .distantFuture
    }

    /// The first clearing strictly after `instant`.
    func nextClearing(after instant: Date) -> Date {
        let year = calendar.component(.year, from: instant)
        let thisYear = clearing(ofYear: year - 1) > instant ? clearing(ofYear: year - 1) : clearing(ofYear: year)
        return thisYear > instant ? thisYear : clearing(ofYear: year + 1)
    }

    /// When points earned at `earnedAt` expire: the next clearing, unless they were earned
    /// within the grace period before it, then the one after.
    func expiry(ofPointsEarnedAt earnedAt: Date) -> Date {
        let next = nextClearing(after: earnedAt)
        guard let graceStart = calendar.date(byAdding: .day, value: -graceDays, to: next) else { return next }
        return earnedAt >= graceStart ? nextClearing(after: next) : next
    }

    /// The start of the local day containing `instant`.
    func startOfDay(_ instant: Date) -> Date { calendar.startOfDay(for: instant) }

    func day(after start: Date) -> Date { calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400) }

    /// If the local day starting at `dayStart` is a reminder day, the clearing it reminds of
    /// and how many days before it is.
    func reminder(on dayStart: Date) -> (clearing: Date, daysBefore: Int)? {
        let clearing = nextClearing(after: dayStart)
        for days in reminderDays {
            if let reminderDay = calendar.date(byAdding: .day, value: -days, to: clearing), reminderDay == dayStart { return (clearing, days) }
        }
        return nil
    }

    /// True on the local day that starts with a clearing (the day after the clearing date,
    /// which falls in the next year only when the date is 31 December).
    func isClearingDay(_ dayStart: Date) -> Bool {
        let year = calendar.component(.year, from: dayStart)
        return clearing(ofYear: year) == dayStart || clearing(ofYear: year - 1) == dayStart
    }

    /// `YYYY-MM-DD` of the local day containing `instant`, for sweep names and job keys.
    func label(_ instant: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}

/// Whose birthday is on a local day. A 29 February birthday is kept on 28 February in years
/// without one.
enum BirthdayCalendar {
    static func birthdays(on dayStart: Date, calendar: Calendar) -> [(month: Int, day: Int)] {
        let parts = calendar.dateComponents([.year, .month, .day], from: dayStart)
        guard let year = parts.year, let month = parts.month, let day = parts.day else { return [] }
        var result = [(month, day)]
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        if month == 2, day == 28, !leap { result.append((2, 29)) }
        return result
    }
}
