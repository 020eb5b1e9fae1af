import AftercareRuntime
import AsyncHTTPClient
import Foundation
import Synchronization

/// The suite's proof, through the public APIs only: HQ sets up a dealer, a store and its
/// people; a member joins with the guide's invite code and buys a mattress; they show up on
/// the guide's due list, are gifted a mite-removal coupon and book with it; two technicians
/// accept, work the checklist and complete; the coupon is consumed; the member rates one
/// technician 2 of 5; the complaint's callback task reaches the guide by SMS, climbs to the
/// store manager after the dealer's one-minute deadline, and the manager records the call.
/// Every name is new for each walk (`run`), so walks never clash on one suite.
public struct Journey: Sendable {
    public let at: SuiteAddresses
    public let client: JourneyClient
    let tokens: TokenAuthority
    public let cast: Cast
    /// The guide's deadline for the callback, in minutes (the dealer's escalation policy).
    public var guideMinutes = 1
    /// How long a hop between services may take before the walk fails.
    public var patience: Duration = .seconds(90)
    let log: JourneyLog

    public init(at addresses: SuiteAddresses, client: JourneyClient, tokens: TokenAuthority, run: String, say: @escaping @Sendable (String) -> Void) {
        self.at = addresses
        self.client = client
        self.tokens = tokens
        self.cast = Cast(run: run)
        self.log = JourneyLog(say: say)
    }

    /// Walks the whole journey; throws `JourneyFailure` at the first step that does not turn
    /// out as a person would expect.
    public func walk() async throws -> JourneyReport {
        let people = try await setUp()
        let member = try await join(people)
        let booked = try await book(member, people)
        let visit = try await visit(booked, people)
        let complaint = try await rate(visit, member, people)
        try await escalate(complaint, people)
        return log.report(cast: cast, member: member.id, coupon: booked.coupon, order: booked.order, complaint: complaint.complaintID)
    }

    /// A fresh token for one of the cast.
    func token(_ role: Role, _ subject: String) async throws -> String {
        let scoped = role != .hqAdmin && role != .service && role != .member
        return try await tokens.sign(
            subject: subject,
            role: role,
            dealerID: scoped ? cast.dealer : nil,
            storeID: scoped ? cast.store : nil,
            validFor: .seconds(3600)
        )
    }
}

/// Who and what the walk creates: every id carries the walk's `run`.
public struct Cast: Sendable {
    public let run: String
    public var dealer: String { "d-\(run)" }
    public var store: String { "s-\(run)" }
    public var guide: String { "g-\(run)" }
    public var manager: String { "m-\(run)" }
    public var technicians: [String] { ["t1-\(run)", "t2-\(run)"] }
    public let guidePhone = Cast.phone()
    public let managerPhone = Cast.phone()
    public let technicianPhones = [Cast.phone(), Cast.phone()]
    public let memberPhone = Cast.phone()

    /// A mainland mobile number nobody else in the suite has (nine random digits).
    static func phone() -> String { "13" + (0..<9).map { _ in String(Int.random(in: 0...9)) }.joined() }
}

/// What the walk printed and how long each hop between services took.
public struct JourneyReport: Sendable {
    public struct Hop: Sendable {
        public let name: String
        public let took: Duration
    }

    public let cast: Cast
    public let memberID: String
    public let couponCode: String
    public let orderID: String
    public let complaintID: String
    public let lines: [String]
    public let hops: [Hop]

    /// The hops as a table, slowest last.
    public var table: String {
        let width = max(20, hops.map(\.name.count).max() ?? 0)
        var text = "hop".padding(toLength: width, withPad: " ", startingAt: 0) + "  took\n"
        text += String(repeating: "-", count: width + 12) + "\n"
        for hop in hops {
            text += hop.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + JourneyLog.seconds(hop.took) + "\n"
        }
        return text
    }
}

/// The walk's narration, as it happens, and its hops.
final class JourneyLog: Sendable {
    private struct State {
        var lines: [String] = []
        var hops: [JourneyReport.Hop] = []
    }

    private let state = Mutex(State())
    private let started = ContinuousClock.now
    private let say: @Sendable (String) -> Void

    init(say: @escaping @Sendable (String) -> Void) { self.say = say }

    /// One line as a person would see it: who did what.
    func line(_ who: String, _ what: String) {
        let text = "[+" + Self.seconds(ContinuousClock.now - started).trimmingCharacters(in: .whitespaces) + "] " + who + ": " + what
        state.withLock { $0.lines.append(text) }
        say(text)
    }

    /// Runs a hop between services and records how long it took since `start` (the moment
    /// of what set it off; by default now).
    func hop<T: Sendable>(_ name: String, since start: ContinuousClock.Instant = .now, _ body: () async throws -> T) async throws -> T {
        let value = try await body()
        let took = ContinuousClock.now - start
        state.withLock { $0.hops.append(.init(name: name, took: took)) }
        return value
    }

    func report(cast: Cast, member: String, coupon: String, order: String, complaint: String) -> JourneyReport {
        let (lines, hops) = state.withLock { ($0.lines, $0.hops) }
        return JourneyReport(cast: cast, memberID: member, couponCode: coupon, orderID: order, complaintID: complaint, lines: lines, hops: hops)
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%7.2f s", value)
    }
}
