import Foundation

/// The crew works a visit's checklist in order: a step may be marked done only after every
/// required step before it, never before a step already done, once, and with the note or
/// photo reference it asks for. The visit completes only when every required step is done.
enum Checklist {
    enum Problem: Sendable, Equatable, CustomStringConvertible {
        case noSuchStep
        case alreadyDone
        case outOfOrder(next: Int)
        case noteRequired
        case photoRequired

        var description: String {
            switch self {
            case .noSuchStep: "is not a step of this visit's checklist"
            case .alreadyDone: "is already done"
            case .outOfOrder(let next): "is out of order: the next step is \(next)"
            case .noteRequired: "needs a note"
            case .photoRequired: "needs a photo reference"
            }
        }
    }

    /// Whether step `index` (0-based) may be marked done now.
    static func problem(marking index: Int, done: Set<Int>, steps: [ServiceType.Step], note: String?, photo: String?) -> Problem? {
        guard steps.indices.contains(index) else { return .noSuchStep }
        if done.contains(index) { return .alreadyDone }
        if let later = done.max(), later > index { return .outOfOrder(next: later + 1) }
        if let skipped = steps.indices.first(where: { $0 < index && steps[$0].required && !done.contains($0) }) { return .outOfOrder(next: skipped) }
        let step = steps[index]
        if step.needsNote, note?.isEmpty ?? true { return .noteRequired }
        if step.needsPhoto, photo?.isEmpty ?? true { return .photoRequired }
        return nil
    }

    /// The required steps not yet done: the visit completes only when this is empty.
    static func missing(done: Set<Int>, steps: [ServiceType.Step]) -> [Int] {
        steps.indices.filter { steps[$0].required && !done.contains($0) }
    }
}
