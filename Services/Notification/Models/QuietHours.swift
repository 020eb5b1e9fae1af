import AftercareContracts
import Foundation

/// A nightly window on the recipient's wall clock in which non-critical messages wait,
/// e.g. 21:00–09:00. Start after end means the window spans midnight.
struct QuietHours: Codable, Sendable, Equatable {
    /// Minutes after midnight.
    var start: Int
    var end: Int

    static let standard = QuietHours(start: 21 * 60, end: 9 * 60)

    /// `HH:mm-HH:mm`, as configured; nil when it is not one.
    init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let start = BusinessHours.minutes(String(parts[0])), let end = BusinessHours.minutes(String(parts[1])) else {
            return nil
        }
        self.init(start: start, end: end)
    }

    init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    static func text(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }

    var description: String { "\(Self.text(start))-\(Self.text(end))" }

    /// When a message due at `instant` may go out: `instant` itself outside the window,
    /// otherwise the window's end on the wall clock of `timeZone`. An empty window (start ==
    /// end) never defers.
    func release(of instant: Date, in timeZone: TimeZone) -> Date {
        guard start != end else { return instant }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: instant)
        let now = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let inside = start < end ? (start <= now && now < end) : (now >= start || now < end)
        guard inside else { return instant }
        // The end falls today when we are before it, else tomorrow (after the evening start).
        let day = now < end ? instant : calendar.date(byAdding: .day, value: 1, to: instant) ?? instant
        return calendar.date(bySettingHour: end / 60, minute: end % 60, second: 0, of: day) ?? instant
    }
}
