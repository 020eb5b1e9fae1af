import AftercareContracts
import Foundation
import Testing

@testable import MembershipService

@Suite("Membership rules: phones, tiers, the points calendar", .timeLimit(.minutes(1)))
struct LoyaltyRulesTests {
    @Test("phone numbers are normalised to E.164 and masked for roles that do not call")
    func phones() {
        #expect(Phone("138 1234 5678")?.e164 == "+8613812345678")
        #expect(Phone("+86-138-1234-5678")?.e164 == "+8613812345678")
        #expect(Phone("008613812345678")?.e164 == "+8613812345678")
        #expect(Phone("+4915112345678")?.e164 == "+4915112345678")
        #expect(Phone("12812345678") == nil, "no mainland mobile starts 12")
        #expect(Phone("1381234567") == nil, "ten digits")
        #expect(Phone("138１２３45678") == nil, "full-width digits")
        #expect(Phone("") == nil)
        #expect(Phone("+8613812345678")?.masked == "+86138****5678")
    }

    static let rules = TierRules(
        tiers: [
            Tier(name: "gold", thresholdCents: 2_000_000, multiplier: 1.5), Tier(name: "member", thresholdCents: 0, multiplier: 1),
            Tier(name: "silver", thresholdCents: 500_000, multiplier: 1.2),
        ],
        pointsPerUnit: 1
    )

    @Test("a tier is reached by its threshold; upgrades only go up and downgrades only down")
    func tiers() {
        let rules = Self.rules
        #expect(rules.entryTier.name == "member")
        #expect(rules.qualifyingTier(spendCents: 499_999).name == "member")
        #expect(rules.qualifyingTier(spendCents: 500_000).name == "silver")
        #expect(rules.upgrade(from: "member", spendCents: 2_500_000)?.name == "gold")
        #expect(rules.upgrade(from: "gold", spendCents: 600_000) == nil)
        #expect(rules.downgrade(from: "gold", spendCents: 600_000)?.name == "silver")
        #expect(rules.downgrade(from: "silver", spendCents: 2_500_000) == nil)
        #expect(rules.progress(current: "silver", spendCents: 600_000)?.remainingCents == 1_400_000)
        #expect(rules.progress(current: "gold", spendCents: 0) == nil)
    }

    @Test("points are whole currency units times the rate times the tier's multiplier, rounded down")
    func points() {
        #expect(Self.rules.points(forCents: 199_999, tier: "member") == 1999)
        #expect(Self.rules.points(forCents: 10_050, tier: "silver") == 120)
        #expect(Self.rules.points(forCents: 99, tier: "gold") == 0)
    }

    static let calendar = PointsCalendar()

    static func day(_ year: Int, _ month: Int, _ day: Int, hour: Int = 0) -> Date {
        calendar.calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour)) ?? .distantPast
    }

    @Test("points expire at the next clearing, except those earned in the 90 days before it")
    func expiry() {
        let calendar = Self.calendar
        let clearing2026 = Self.day(2027, 1, 1)
        #expect(calendar.clearing(ofYear: 2026) == clearing2026)
        #expect(calendar.expiry(ofPointsEarnedAt: Self.day(2026, 3, 1, hour: 15)) == clearing2026)
        // Joined on 30 December: the points survive the clearing the next day.
        #expect(calendar.expiry(ofPointsEarnedAt: Self.day(2026, 12, 30, hour: 15)) == Self.day(2028, 1, 1))
        // The grace period starts 90 days before the clearing instant: 3 October 00:00.
        #expect(calendar.expiry(ofPointsEarnedAt: Self.day(2026, 10, 3, hour: 0)) == Self.day(2028, 1, 1))
        #expect(calendar.expiry(ofPointsEarnedAt: Self.day(2026, 10, 2, hour: 23)) == clearing2026)
    }

    @Test("reminder days are 30, 7 and 3 days before a clearing; the clearing day is the day after the date")
    func reminderDays() {
        let calendar = Self.calendar
        #expect(calendar.reminder(on: Self.day(2026, 12, 2))?.daysBefore == 30)
        #expect(calendar.reminder(on: Self.day(2026, 12, 25))?.daysBefore == 7)
        #expect(calendar.reminder(on: Self.day(2026, 12, 29))?.daysBefore == 3)
        #expect(calendar.reminder(on: Self.day(2026, 12, 29))?.clearing == Self.day(2027, 1, 1))
        #expect(calendar.reminder(on: Self.day(2026, 12, 28)) == nil)
        #expect(calendar.isClearingDay(Self.day(2027, 1, 1)))
        #expect(!calendar.isClearingDay(Self.day(2026, 12, 31)))
    }

    @Test("a clearing date other than 31 December: its day after is the clearing day, reminders count back from it")
    func otherClearingDate() {
        var calendar = PointsCalendar()
        calendar.clearingMonth = 6
        calendar.clearingDay = 30
        #expect(calendar.isClearingDay(Self.day(2026, 7, 1)))
        #expect(!calendar.isClearingDay(Self.day(2026, 6, 30)))
        #expect(calendar.reminder(on: Self.day(2026, 6, 1))?.daysBefore == 30)
        #expect(calendar.expiry(ofPointsEarnedAt: Self.day(2026, 3, 1)) == Self.day(2026, 7, 1))
        #expect(calendar.expiry(ofPointsEarnedAt: Self.day(2026, 5, 1)) == Self.day(2027, 7, 1))
    }

    @Test("each ledger entry is one event: an expiry is points.expired, never a points change as well")
    func expiryIsOneEvent() throws {
        for kind in PointsEntryKind.allCases where kind != .expire {
            try PointsChanged(memberId: "m-1", kind: kind, delta: -1, balance: 0, reference: nil).validate()
        }
        #expect(throws: EventValidationError.self) {
            try PointsChanged(memberId: "m-1", kind: .expire, delta: -1, balance: 0, reference: nil).validate()
        }
        try PointsExpired(memberId: "m-1", points: 1, balance: 0, clearedAt: Date()).validate()
    }

    @Test("a 29 February birthday is kept on 28 February in other years")
    func leapBirthdays() {
        let days = BirthdayCalendar.birthdays(on: Self.day(2027, 2, 28), calendar: Self.calendar.calendar)
        #expect(days.map(\.day) == [28, 29])
        #expect(BirthdayCalendar.birthdays(on: Self.day(2028, 2, 28), calendar: Self.calendar.calendar).map(\.day) == [28])
    }
}
