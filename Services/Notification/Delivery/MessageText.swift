import Foundation

/// What a template's variables become for one recipient: the event's fields, dates shown on
/// the recipient's wall clock, and the name they are addressed by.
enum MessageText {
    static func values(_ facts: EventCatalog.Facts, recipient: Recipient, timeZone: TimeZone) -> [String: String] {
        var values = facts.fields
        for (key, value) in values {
            if let date = try? Date(value, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
                values[key] = localText(date, in: timeZone)
            }
        }
        values["recipientName"] = recipient.name ?? ""
        return values
    }

    /// `2026-12-31` for a midnight, else `2026-12-31 18:05`, on the given wall clock.
    static func localText(_ date: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let day = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        let (hour, minute) = (parts.hour ?? 0, parts.minute ?? 0)
        return hour == 0 && minute == 0 ? day : day + String(format: " %02d:%02d", hour, minute)
    }

    /// 10:00 on the last day of the month the event is about (its `year`/`month` fields, or
    /// the month it occurred in), on the recipient's wall clock.
    static func monthEnd(of facts: EventCatalog.Facts, in timeZone: TimeZone, fallback: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var parts = calendar.dateComponents([.year, .month], from: facts.metadata.occurredAt)
        if let year = facts["year"].flatMap(Int.init), let month = facts["month"].flatMap(Int.init) {
            parts.year = year
            parts.month = month
        }
        parts.day = 1
        parts.hour = 10
        guard let first = calendar.date(from: parts), let next = calendar.date(byAdding: .month, value: 1, to: first),
            let last = calendar.date(byAdding: .day, value: -1, to: next)
        else { return fallback }
        return last
    }
}
