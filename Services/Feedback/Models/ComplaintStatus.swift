import Foundation

/// Where a complaint stands. opened → called back → in progress → resolved → closed; a
/// resolved or closed complaint may be reopened within the window, which starts it over with
/// a new callback task.
enum ComplaintStatus: String, Codable, Sendable, CaseIterable {
    case opened
    case calledBack = "called_back"
    case inProgress = "in_progress"
    case resolved
    case closed

    enum Step: String, Sendable {
        case callBack = "call back"
        case startWork = "start work on"
        case resolve
        case close
        case reopen
    }

    /// Whether `step` may be taken from here. Resolving needs a call first: a complaint must
    /// never be marked resolved while its member still waits for the five-minute callback.
    func allows(_ step: Step) -> Bool {
        switch step {
        case .callBack: self == .opened
        case .startWork: self == .calledBack
        case .resolve: self == .calledBack || self == .inProgress
        case .close: self == .resolved
        case .reopen: self == .resolved || self == .closed
        }
    }

    /// The answer when a step is not allowed, naming the status.
    func refusal(_ step: Step) -> String {
        "A complaint that is \(rawValue.replacingOccurrences(of: "_", with: " ")) cannot be asked to \(step.rawValue)."
    }

    /// A reopen is allowed until `window` after the complaint was closed (or, if it never
    /// closed, resolved).
    static func reopenableUntil(resolvedAt: Date?, closedAt: Date?, window: TimeInterval) -> Date? {
        (closedAt ?? resolvedAt).map { $0.addingTimeInterval(window) }
    }
}
