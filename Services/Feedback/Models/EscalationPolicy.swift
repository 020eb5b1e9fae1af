import AftercareContracts
import Foundation

/// How long each rung of the ladder has to call the member back before the task moves up:
/// guide → store manager → dealer admin → HQ service desk (the last rung, no deadline).
struct EscalationPolicy: Sendable, Equatable {
    var guide: TimeInterval = 300
    var storeManager: TimeInterval = 300
    var dealerAdmin: TimeInterval = 600
    /// The promise made to the member, against which "called back in time" is judged.
    var promise: TimeInterval = 300

    static let standard = EscalationPolicy()

    /// Nil for the HQ desk: it keeps the task until someone calls.
    func deadline(for level: CallbackLevel) -> TimeInterval? {
        switch level {
        case .guide: guide
        case .storeManager: storeManager
        case .dealerAdmin: dealerAdmin
        case .hqDesk: nil
        }
    }
}

extension CallbackLevel {
    var next: CallbackLevel? {
        let all = Self.allCases
        guard let index = all.firstIndex(of: self), index + 1 < all.count else { return nil }
        return all[index + 1]
    }
}

/// Who stands on each rung for one member: their guide, their store's manager, their
/// dealer's admin. Nil where nobody is known or the person has left.
struct Ladder: Sendable, Equatable {
    var guide: String?
    var storeManager: String?
    var dealerAdmin: String?

    func person(at level: CallbackLevel) -> String? {
        switch level {
        case .guide: guide
        case .storeManager: storeManager
        case .dealerAdmin: dealerAdmin
        case .hqDesk: nil
        }
    }

    /// The first rung at or above `level` with a person on it; the HQ desk when none has.
    /// A complaint whose guide has left goes straight to the store manager, and so on up.
    func firstStaffed(from level: CallbackLevel) -> (level: CallbackLevel, assignee: String?) {
        var current = level
        while current != .hqDesk {
            if let person = person(at: current) { return (current, person) }
            guard let next = current.next else { break }
            current = next
        }
        return (.hqDesk, nil)
    }

    /// Where a new task starts: the first staffed rung from the guide up, or the HQ desk
    /// while the store is closed (nobody there could call back within minutes).
    func startingRung(storeClosed: Bool) -> (level: CallbackLevel, assignee: String?) {
        storeClosed ? (.hqDesk, nil) : firstStaffed(from: .guide)
    }
}
