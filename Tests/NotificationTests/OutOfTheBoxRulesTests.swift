import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import NotificationService

/// Each out-of-the-box rule, end to end: the event on the real broker, the delivery rows,
/// and the SMS as the (real, local) gateway received it.
@Suite("Out-of-the-box rules", .serialized, .timeLimit(.minutes(3)))
struct OutOfTheBoxRulesTests {
    @Test("a callback task reaches its assignee at once on every staff channel, with the task in the text")
    func callbackTask() async throws {
        try await NotificationFixture.with { fixture in
            try await FakeGateway().running { sms in
                try await FakeGateway().running { oa in
                    try await fixture.app(settings: NotificationFixture.settings(sms: sms.baseURL, oa: oa.baseURL)).test(.router) { client in
                        try await fixture.seedOrganisation(client)
                        let task = fixture.callbackCreated()
                        let event = try await fixture.publish(task, aggregate: task.complaintId.uuidString.lowercased(), producer: "feedback")
                        let rows = try await fixture.waitForDeliveries(of: event) { $0.count == 3 && $0.allSatisfy { $0.status == "sent" } }
                        #expect(rows.map(\.channel) == ["in_app", "official_account", "sms"])
                        #expect(rows.allSatisfy { $0.recipient == fixture.guide && $0.status == "sent" })
                        let expected =
                            "【售后回访】Li Na，您有一条新的会员投诉回访任务（product_quality，high），请在 2030-03-05 10:05 前回电。任务号 \(task.taskId.uuidString.lowercased())。"
                        #expect(rows.allSatisfy { $0.body == expected }, "\(rows.map(\.body))")
                        let received = sms.received.filter { $0.body["text"] == expected }
                        #expect(received.count == 1)
                        #expect(received.first?.body["to"] == "+8613700000001")
                        #expect(received.first?.authorization == "Bearer test-key")
                        #expect(received.first?.idempotencyKey == rows.first { $0.channel == "sms" }?.id.uuidString.lowercased())
                        #expect(oa.received.filter { $0.body["recipientId"] == fixture.guide && $0.body["text"] == expected }.count == 1)
                        #expect(try await fixture.published(DeliverySent.self, about: event) == 3)
                    }
                }
            }
        }
    }

    @Test("a visit: the offer reaches the technician, the member hears who comes and when, an incomplete crew alerts the manager")
    func dispatchRules() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                let technician = "\(fixture.prefix)t-1"
                let joined = StaffJoined(
                    staffId: technician,
                    role: .technician,
                    dealerId: fixture.dealer,
                    storeId: fixture.store,
                    phone: "+8613700000009",
                    name: "Zhao Lei"
                )
                _ = try await fixture.publish(joined, aggregate: technician, producer: "membership")
                try await waitUntil("the technician is known") {
                    try await fixture.count("SELECT count(*) FROM staff WHERE staff_id = '\(technician)'") == 1
                }
                let (orderId, startsAt) = (UUID(), NotificationFixture.morning.addingTimeInterval(86400))
                let offer = OfferMade(
                    orderId: orderId,
                    seat: 1,
                    technicianId: technician,
                    memberId: fixture.member,
                    storeId: fixture.store,
                    dealerId: fixture.dealer,
                    serviceType: "mite_removal",
                    startsAt: startsAt,
                    expiresAt: NotificationFixture.morning.addingTimeInterval(900),
                    actorId: "dispatch",
                    reason: "0 visits this week"
                )
                let offered = try await fixture.publish(offer, aggregate: "order-\(orderId)", producer: "dispatch")
                let offerRows = try await fixture.waitForDeliveries(of: offered) { $0.count == 2 && $0.allSatisfy { $0.status == "sent" } }
                #expect(Set(offerRows.map(\.channel)) == ["in_app", "sms"] && offerRows.allSatisfy { $0.recipient == technician })
                #expect(offerRows.first?.body.hasPrefix("【服务派单】Zhao Lei，有一单 mite_removal 上门服务") == true)

                func change<Kind>(_ type: OrderChange<Kind>.Type, reason: String? = nil) -> OrderChange<Kind> {
                    OrderChange<Kind>(
                        orderId: orderId,
                        bookingId: UUID(),
                        memberId: fixture.member,
                        storeId: fixture.store,
                        dealerId: fixture.dealer,
                        serviceType: "mite_removal",
                        startsAt: startsAt,
                        endsAt: startsAt.addingTimeInterval(10800),
                        technicianIds: [technician],
                        couponCode: nil,
                        actorId: "dispatch",
                        reason: reason
                    )
                }
                let alert = try await fixture.publish(
                    change(CrewIncomplete.self, reason: "no candidate left for seat 2"),
                    aggregate: "order-\(orderId)",
                    producer: "dispatch"
                )
                let alertRows = try await fixture.waitForDeliveries(of: alert) { $0.count == 3 && $0.allSatisfy { $0.status == "sent" } }
                #expect(alertRows.allSatisfy { $0.recipient == fixture.manager && $0.body.contains("no candidate left for seat 2") })
                let dispatched = try await fixture.publish(change(ServiceOrderDispatched.self), aggregate: "order-\(orderId)", producer: "dispatch")
                let memberRows = try await fixture.waitForDeliveries(of: dispatched) { $0.count == 2 && $0.allSatisfy { $0.status == "sent" } }
                #expect(memberRows.allSatisfy { $0.recipient == fixture.member && $0.body.hasPrefix("Zhang San，您预约的 mite_removal 上门服务已安排") })
            }
        }
    }

    @Test("a coupon: the member hears it was issued and, before its end, that it is expiring")
    func couponRules() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                func change<Kind>(_ type: CouponChange<Kind>.Type) -> CouponChange<Kind> {
                    CouponChange<Kind>(
                        code: "K7QX2M9RT4PW",
                        templateId: UUID(),
                        kind: "free_service",
                        title: "Mite removal",
                        memberId: fixture.member,
                        storeId: fixture.store,
                        dealerId: fixture.dealer,
                        validUntil: NotificationFixture.morning.addingTimeInterval(30 * 86400),
                        actorId: fixture.guide,
                        reason: "gift"
                    )
                }
                for (type, prefix) in [
                    (CouponIssued.eventType, "Zhang San，您收到一张优惠券：Mite removal"), (CouponExpiring.eventType, "Zhang San，您的优惠券 Mite removal 将于"),
                ] {
                    let event =
                        type == CouponIssued.eventType
                        ? try await fixture.publish(change(CouponIssued.self), aggregate: "coupon-1", producer: "coupon")
                        : try await fixture.publish(change(CouponExpiring.self), aggregate: "coupon-1", producer: "coupon")
                    let rows = try await fixture.waitForDeliveries(of: event) { $0.count == 2 && $0.allSatisfy { $0.status == "sent" } }
                    #expect(rows.allSatisfy { $0.recipient == fixture.member && $0.body.hasPrefix(prefix) && $0.body.contains("K7QX2M9RT4PW") })
                }
            }
        }
    }

    @Test("an invitation to a store event reaches the member, as marketing: not without their consent")
    func storeEventInvitation() async throws {
        for consent in [true, false] {
            try await NotificationFixture.with { fixture in
                try await fixture.app().test(.router) { client in
                    try await fixture.seedOrganisation(client, marketingConsent: consent)
                    let invited = StoreEventMemberInvited(
                        eventId: UUID(),
                        name: "Spring care day",
                        memberId: fixture.member,
                        storeId: fixture.store,
                        startsAt: NotificationFixture.morning.addingTimeInterval(7 * 86400),
                        endsAt: NotificationFixture.morning.addingTimeInterval(7 * 86400 + 4 * 3600),
                        invitedBy: fixture.guide
                    )
                    let event = try await fixture.publish(invited, aggregate: "store-event-1", producer: "coupon")
                    let status = consent ? "sent" : "skipped"
                    let rows = try await fixture.waitForDeliveries(of: event) { $0.count == 2 && $0.allSatisfy { $0.status == status } }
                    #expect(rows.allSatisfy { $0.recipient == fixture.member })
                    if consent { #expect(rows.allSatisfy { $0.body.hasPrefix("Zhang San，诚邀您参加门店活动：Spring care day") }) }
                }
            }
        }
    }

    @Test("an escalated task reaches the store manager it now sits with")
    func escalated() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                let escalated = CallbackEscalated(
                    taskId: UUID(),
                    complaintId: UUID(),
                    memberId: fixture.member,
                    storeId: fixture.store,
                    dealerId: fixture.dealer,
                    fromLevel: .guide,
                    toLevel: .storeManager,
                    assigneeId: fixture.manager,
                    dueAt: nil
                )
                let event = try await fixture.publish(escalated, aggregate: escalated.complaintId.uuidString.lowercased(), producer: "feedback")
                let rows = try await fixture.waitForDeliveries(of: event) { $0.count == 3 && $0.allSatisfy { $0.status == "sent" } }
                #expect(rows.allSatisfy { $0.recipient == fixture.manager && $0.status == "sent" })
                #expect(
                    rows.first?.body == "【投诉升级】Wang Wei，一条投诉回访已超时并升级给您（guide → store_manager），请立即回电。任务号 \(escalated.taskId.uuidString.lowercased())。"
                )
                #expect(rows.first { $0.channel == "sms" }?.provider == "sms-recorder")
            }
        }
    }

    @Test("members hear of their welcome, expiring points, tier, birthday and review requests, in their words")
    func memberRules() async throws {
        try await NotificationFixture.with { fixture in
            try await FakeGateway().running { sms in
                try await fixture.app(settings: NotificationFixture.settings(sms: sms.baseURL)).test(.router) { client in
                    try await fixture.seedOrganisation(client)
                    let welcome = try await eventually {
                        try await fixture.count(
                            "SELECT count(*) FROM deliveries WHERE recipient_id = '\(fixture.member)' AND template_key = 'welcome' AND status = 'sent' AND body = 'Zhang San，欢迎加入会员！您的专属导购会一直为您服务。'"
                        ) == 2
                    }
                    #expect(welcome)
                    let expiresAt = NotificationFixture.morning.addingTimeInterval(30 * 86400 - 10 * 3600)  // 2030-04-04 00:00 in Shanghai
                    let cases: [(UUID, String)] = [
                        (
                            try await fixture.publish(
                                PointsExpiring(memberId: fixture.member, points: 120, expiresAt: expiresAt, daysBefore: 30),
                                aggregate: fixture.member,
                                producer: "membership"
                            ),
                            "Zhang San，您有 120 积分将于 2030-04-04 到期，请在此之前使用。"
                        ),
                        (
                            try await fixture.publish(
                                TierChanged(
                                    memberId: fixture.member,
                                    fromTier: "silver",
                                    toTier: "gold",
                                    reason: "purchase_qualified",
                                    qualifyingSpendCents: 900_000
                                ),
                                aggregate: fixture.member,
                                producer: "membership"
                            ),
                            "Zhang San，您的会员等级已由 silver 变更为 gold。"
                        ),
                        (
                            try await fixture.publish(
                                BirthdayToday(memberId: fixture.member, year: 2030, month: 3, day: 5),
                                aggregate: fixture.member,
                                producer: "membership"
                            ),
                            "Zhang San，祝您生日快乐！"
                        ),
                        (
                            try await fixture.publish(
                                ReviewRequested(
                                    requestId: UUID(),
                                    orderId: "o-1",
                                    memberId: fixture.member,
                                    storeId: fixture.store,
                                    dealerId: fixture.dealer,
                                    technicianIds: ["t-1"],
                                    expiresAt: expiresAt
                                ),
                                aggregate: "o-1",
                                producer: "feedback"
                            ),
                            "Zhang San，上门服务已完成，请在 2030-04-04 前为本次服务评分。"
                        ),
                    ]
                    for (event, text) in cases {
                        let rows = try await fixture.waitForDeliveries(of: event) { $0.count == 2 && $0.allSatisfy { $0.status == "sent" } }
                        #expect(rows.map(\.channel) == ["in_app", "sms"])
                        #expect(rows.allSatisfy { $0.body == text && $0.status == "sent" }, "\(rows)")
                        #expect(sms.received.filter { $0.body["text"] == text && $0.body["to"] == fixture.memberPhone }.count == 1)
                    }
                }
            }
        }
    }

    @Test("the birthday month greets at once and warns before the gift lapses on the month's last day")
    func birthdayMonth() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                let event = try await fixture.publish(
                    BirthdayMonthStarted(memberId: fixture.member, year: 2030, month: 3, day: 20),
                    aggregate: fixture.member,
                    producer: "membership"
                )
                let rows = try await fixture.waitForDeliveries(of: event) { $0.count == 4 && $0.filter { $0.status == "sent" }.count == 2 }
                let greeting = rows.filter { $0.body.contains("生日月快乐") }
                let lapsing = rows.filter { $0.body.contains("生日礼将于本月底失效") }
                #expect(greeting.count == 2 && greeting.allSatisfy { $0.status == "sent" })
                #expect(lapsing.count == 2 && lapsing.allSatisfy { $0.status == "deferred" && $0.reason == "month_end" })
                // 2030-03-31 10:00 in Shanghai is 26 days later; it goes out then, not before.
                try await fixture.advance(by: 26 * 86400 - 60)
                #expect(try await fixture.deliveries(of: event).filter { $0.status == "deferred" }.count == 2)
                try await fixture.advance(by: 120)
                let later = try await fixture.waitForDeliveries(of: event) { $0.allSatisfy { $0.status == "sent" } }
                #expect(later.allSatisfy { $0.status == "sent" })
            }
        }
    }
}
