import AftercareContracts
import AftercareRuntime
import Foundation
import Testing

@testable import FeedbackService

@Suite("Complaint rules: lifecycle steps, store hours, settings", .timeLimit(.minutes(1)))
struct FeedbackRulesTests {
    @Test("each step is allowed only from its statuses; resolving needs a callback first")
    func lifecycle() {
        let allowed: [ComplaintStatus.Step: Set<ComplaintStatus>] = [
            .callBack: [.opened], .startWork: [.calledBack], .resolve: [.calledBack, .inProgress],
            .close: [.resolved], .reopen: [.resolved, .closed],
        ]
        for (step, from) in allowed {
            for status in ComplaintStatus.allCases {
                #expect(status.allows(step) == from.contains(status), "\(step) from \(status)")
            }
        }
        #expect(ComplaintStatus.opened.refusal(.resolve).contains("opened"))
    }

    @Test("the reopen window runs from the closing, or from the resolution if it never closed")
    func reopenWindow() {
        let resolved = Date(timeIntervalSince1970: 1_000_000)
        let closed = resolved.addingTimeInterval(3600)
        #expect(ComplaintStatus.reopenableUntil(resolvedAt: resolved, closedAt: closed, window: 86400) == closed.addingTimeInterval(86400))
        #expect(ComplaintStatus.reopenableUntil(resolvedAt: resolved, closedAt: nil, window: 86400) == resolved.addingTimeInterval(86400))
        #expect(ComplaintStatus.reopenableUntil(resolvedAt: nil, closedAt: nil, window: 86400) == nil)
    }

    @Test("a closed store sends the task to the HQ desk whoever is on the ladder")
    func startingRung() {
        let ladder = Ladder(guide: "g-1", storeManager: "sm-1", dealerAdmin: "da-1")
        #expect(ladder.startingRung(storeClosed: false) == (.guide, "g-1"))
        #expect(ladder.startingRung(storeClosed: true) == (.hqDesk, nil))
        #expect(Ladder(guide: nil, storeManager: "sm-1", dealerAdmin: nil).startingRung(storeClosed: false) == (.storeManager, "sm-1"))
    }

    @Test("store hours are read on the store's own clock, per ISO weekday, closing time exclusive")
    func businessHours() throws {
        // Monday to Friday 09:00–18:00; Saturday 10:00–16:00; Sunday closed.
        let hours = BusinessHours(
            days: (1...5).map { .init(weekday: $0, opens: "09:00", closes: "18:00") } + [.init(weekday: 6, opens: "10:00", closes: "16:00")]
        )
        let shanghai = try #require(TimeZone(identifier: "Asia/Shanghai"))
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        func at(_ text: String) throws -> Date { try #require(ISO8601DateFormatter().date(from: text)) }
        // 2026-11-23 is a Monday.
        #expect(hours.isOpen(at: try at("2026-11-23T01:00:00Z"), in: shanghai))  // 09:00 Monday in Shanghai
        #expect(!hours.isOpen(at: try at("2026-11-23T00:59:00Z"), in: shanghai))  // 08:59
        #expect(!hours.isOpen(at: try at("2026-11-23T10:00:00Z"), in: shanghai))  // 18:00, closed
        #expect(hours.isOpen(at: try at("2026-11-23T10:00:00Z"), in: berlin))  // 11:00 in Berlin
        #expect(!hours.isOpen(at: try at("2026-11-22T04:00:00Z"), in: shanghai))  // Sunday noon
        #expect(hours.isOpen(at: try at("2026-11-21T04:00:00Z"), in: shanghai))  // Saturday noon
        #expect(BusinessHours.minutes("24:00") == nil && BusinessHours.minutes("9:00") == nil && BusinessHours.minutes("23:59") == 1439)
    }

    @Test("settings come from the environment, with defaults, and a bad value is named")
    func settings() throws {
        let defaults = try FeedbackSettings.read(EnvironmentReader([:]))
        #expect(defaults == FeedbackSettings())
        #expect(defaults.policy == .standard)
        let custom = try FeedbackSettings.read(
            EnvironmentReader([
                "FEEDBACK_GUIDE_MINUTES": "3", "FEEDBACK_CLOSE_AFTER_HOURS": "24", "FEEDBACK_LOW_RATING_THRESHOLD": "3",
                "FEEDBACK_REVIEW_EXPIRES_AFTER_DAYS": "14",
            ])
        )
        #expect(custom.policy.guide == 180)
        #expect(custom.closeAfter == 86400)
        #expect(custom.lowRatingThreshold == 3)
        #expect(custom.reviewExpiresAfter == 14 * 86400)
        #expect(throws: ConfigurationError.self) { try FeedbackSettings.read(EnvironmentReader(["FEEDBACK_LOW_RATING_THRESHOLD": "5"])) }
        do {
            _ = try FeedbackSettings.read(EnvironmentReader(["FEEDBACK_GUIDE_MINUTES": "soon"]))
            Issue.record("a bad value was accepted")
        } catch let error as ConfigurationError {
            #expect(error.variable == "FEEDBACK_GUIDE_MINUTES")
        }
    }
}
