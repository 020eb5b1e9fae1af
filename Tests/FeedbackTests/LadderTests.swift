import AftercareContracts
import Testing

@testable import FeedbackService

@Suite("The complaint ladder", .timeLimit(.minutes(1)))
struct LadderTests {
    @Test("guide, store manager, dealer admin, then the HQ desk, which has no deadline")
    func order() {
        #expect(CallbackLevel.guide.next == .storeManager)
        #expect(CallbackLevel.storeManager.next == .dealerAdmin)
        #expect(CallbackLevel.dealerAdmin.next == .hqDesk)
        #expect(CallbackLevel.hqDesk.next == nil)
        let policy = EscalationPolicy.standard
        #expect([policy.deadline(for: .guide), policy.deadline(for: .storeManager), policy.deadline(for: .dealerAdmin)] == [300, 300, 600])
        #expect(policy.deadline(for: .hqDesk) == nil)
    }

    @Test("a task starts with the member's guide")
    func startsWithGuide() {
        let ladder = Ladder(guide: "g-1", storeManager: "sm-1", dealerAdmin: "da-1")
        #expect(ladder.firstStaffed(from: .guide) == (.guide, "g-1"))
    }

    @Test("a rung nobody stands on is skipped: no guide goes to the store manager, and so on up")
    func skipsEmptyRungs() {
        #expect(Ladder(guide: nil, storeManager: "sm-1", dealerAdmin: "da-1").firstStaffed(from: .guide) == (.storeManager, "sm-1"))
        #expect(Ladder(guide: nil, storeManager: nil, dealerAdmin: "da-1").firstStaffed(from: .guide) == (.dealerAdmin, "da-1"))
        #expect(Ladder(guide: "g-1", storeManager: nil, dealerAdmin: nil).firstStaffed(from: .storeManager) == (.hqDesk, nil))
        #expect(Ladder().firstStaffed(from: .hqDesk) == (.hqDesk, nil))
    }

    @Test("complaint requests name each invalid field")
    func requestValidation() {
        let request = OpenComplaintRequest(
            memberId: "",
            channel: "fax",
            category: "product_quality",
            severity: "urgent",
            description: "  ",
            relatedReference: nil
        )
        #expect(Set(request.validate().map(\.field)) == ["memberId", "channel", "severity", "description"])
        let long = OpenComplaintRequest(
            memberId: nil,
            channel: "hotline",
            category: "other",
            severity: "low",
            description: String(repeating: "x", count: 2001),
            relatedReference: nil
        )
        #expect(long.validate().map(\.field) == ["description"])
    }
}
