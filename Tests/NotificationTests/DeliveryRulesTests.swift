import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import NotificationService

/// The rules of delivery against a real local gateway: once per (event, recipient,
/// channel), retries and failover, no retry of a 4xx, quiet hours, opt-outs, the daily cap.
@Suite("Rules of delivery", .serialized, .timeLimit(.minutes(3)))
struct DeliveryRulesTests {
    @Test("the same event delivered twice produces one message per recipient and channel")
    func duplicates() async throws {
        try await NotificationFixture.with { fixture in
            try await FakeGateway().running { sms in
                try await fixture.app(settings: NotificationFixture.settings(sms: sms.baseURL)).test(.router) { client in
                    try await fixture.seedOrganisation(client)
                    let task = fixture.callbackCreated()
                    let event = try await fixture.publish(task, aggregate: task.complaintId.uuidString.lowercased(), producer: "feedback")
                    _ = try await fixture.waitForDeliveries(of: event) { $0.count == 3 && $0.allSatisfy { $0.status == "sent" } }
                    try await fixture.publish(task, aggregate: task.complaintId.uuidString.lowercased(), producer: "feedback", id: event)
                    // One aggregate's events are handled in order: once a later event of the same
                    // complaint has its deliveries, the repeat before it has been handled too.
                    let marker = try await fixture.publish(
                        fixture.callbackCreated(),
                        aggregate: task.complaintId.uuidString.lowercased(),
                        producer: "feedback"
                    )
                    #expect(try await fixture.waitForDeliveries(of: marker) { $0.count == 3 }.count == 3)
                    #expect(try await fixture.deliveries(of: event).count == 3)
                    #expect(sms.received.filter { $0.body["text"]?.contains(task.taskId.uuidString.lowercased()) == true }.count == 1)
                }
            }
        }
    }

    @Test("a gateway answering 500 then 200 sends the message once, after a retry with the same idempotency key")
    func retryAfterServerError() async throws {
        try await NotificationFixture.with { fixture in
            try await FakeGateway(answers: [500], onlyTo: fixture.memberPhone).running { sms in
                try await fixture.app(settings: NotificationFixture.settings(sms: sms.baseURL)).test(.router) { client in
                    try await fixture.seedOrganisation(client)
                    // The welcome SMS met the 500; it waits for its retry a second of business time later.
                    let welcome = try #require(
                        try await fixture.database.query(
                            "SELECT event_id FROM deliveries WHERE recipient_id = \(fixture.member) AND channel = 'sms'",
                            logger: TestEnvironment.logger
                        ).collect().first?.decode(UUID.self)
                    )
                    let pending = try await fixture.waitForDeliveries(of: welcome) { $0.first { $0.channel == "sms" }?.attempts == 1 }
                    #expect(pending.first { $0.channel == "sms" }?.status == "pending")
                    try await fixture.advance(by: 2)
                    let rows = try await fixture.waitForDeliveries(of: welcome) { $0.first { $0.channel == "sms" }?.status == "sent" }
                    let delivery = try #require(rows.first { $0.channel == "sms" })
                    #expect(delivery.status == "sent" && delivery.attempts == 2)
                    // Every test's queue sees every test's registrations, so only this member's messages count.
                    let mine = sms.received.filter { $0.body["to"] == fixture.memberPhone }
                    #expect(mine.count == 2)
                    #expect(Set(mine.map(\.idempotencyKey)) == [delivery.id.uuidString.lowercased()])
                    let outcomes = try await fixture.database.query(
                        "SELECT outcome, status_code FROM delivery_attempts WHERE delivery_id = \(delivery.id) ORDER BY id",
                        logger: TestEnvironment.logger
                    ).collect().map { try $0.decode((String, Int?).self) }
                    #expect(outcomes.map(\.0) == ["retryable", "accepted"])
                    #expect(outcomes.first?.1 == 500)
                }
            }
        }
    }

    @Test("a gateway failing every attempt: the delivery fails after the last one and the failure is published")
    func retriesRunOut() async throws {
        try await NotificationFixture.with { fixture in
            try await FakeGateway(answers: [503, 503, 503, 503], onlyTo: fixture.memberPhone).running { sms in
                try await fixture.app(settings: NotificationFixture.settings(sms: sms.baseURL)).test(.router) { client in
                    try await fixture.seedOrganisation(client)
                    let welcome = try #require(
                        try await fixture.database.query(
                            "SELECT event_id FROM deliveries WHERE recipient_id = \(fixture.member) AND channel = 'sms'",
                            logger: TestEnvironment.logger
                        ).collect().first?.decode(UUID.self)
                    )
                    _ = try await fixture.waitForDeliveries(of: welcome) { $0.first { $0.channel == "sms" }?.attempts == 1 }
                    try await fixture.advance(by: 2)  // the second attempt, one second after the first
                    _ = try await fixture.waitForDeliveries(of: welcome) { $0.first { $0.channel == "sms" }?.attempts == 2 }
                    try await fixture.advance(by: 3)  // the third and last (maxAttempts 3), two seconds later
                    let rows = try await fixture.waitForDeliveries(of: welcome) { $0.first { $0.channel == "sms" }?.status == "failed" }
                    let delivery = try #require(rows.first { $0.channel == "sms" })
                    #expect(delivery.status == "failed" && delivery.attempts == 3)
                    #expect(delivery.reason?.hasPrefix("gave up after 3 attempts") == true)
                    #expect(sms.received.filter { $0.body["to"] == fixture.memberPhone }.count == 3)
                    #expect(try await fixture.published(DeliveryFailed.self, about: welcome) == 1)
                    try await fixture.advance(by: 60)
                    #expect(sms.received.filter { $0.body["to"] == fixture.memberPhone }.count == 3)
                }
            }
        }
    }

    @Test("a gateway that is down fails over to the secondary at once")
    func failover() async throws {
        try await NotificationFixture.with { fixture in
            try await FakeGateway().running { secondary in
                let settings = NotificationFixture.settings(sms: "http://127.0.0.1:9", smsFailover: secondary.baseURL)
                try await fixture.app(settings: settings).test(.router) { client in
                    try await fixture.seedOrganisation(client)
                    let task = fixture.callbackCreated()
                    let event = try await fixture.publish(task, aggregate: task.complaintId.uuidString.lowercased(), producer: "feedback")
                    let rows = try await fixture.waitForDeliveries(of: event) { $0.first { $0.channel == "sms" }?.status == "sent" }
                    let sms = try #require(rows.first { $0.channel == "sms" })
                    #expect(sms.provider == "sms-failover" && sms.attempts == 1)
                    let mine = secondary.received.filter { $0.body["text"]?.contains(task.taskId.uuidString.lowercased()) == true }
                    #expect(mine.count == 1 && mine.first?.body["to"] == "+8613700000001")
                    #expect(mine.first?.authorization == "Bearer test-key-2")
                    let providers = try await fixture.database.query(
                        "SELECT provider, outcome FROM delivery_attempts WHERE delivery_id = \(sms.id) ORDER BY id",
                        logger: TestEnvironment.logger
                    ).collect().map { try $0.decode((String, String).self) }
                    #expect(providers.map(\.0) == ["sms-primary", "sms-failover"])
                    #expect(providers.map(\.1) == ["retryable", "accepted"])
                }
            }
        }
    }

    @Test("a 4xx is never retried: the delivery fails and the failure is published")
    func rejected() async throws {
        try await NotificationFixture.with { fixture in
            try await FakeGateway(answers: [400], onlyTo: fixture.memberPhone).running { sms in
                try await fixture.app(settings: NotificationFixture.settings(sms: sms.baseURL)).test(.router) { client in
                    try await fixture.seedOrganisation(client)
                    let failed = try await eventually(timeout: .seconds(20)) {
                        try await fixture.count(
                            "SELECT count(*) FROM deliveries WHERE recipient_id = '\(fixture.member)' AND channel = 'sms' AND status = 'failed'"
                        ) == 1
                    }
                    #expect(failed)
                    try await fixture.advance(by: 10)
                    #expect(sms.received.filter { $0.body["to"] == fixture.memberPhone }.count == 1)
                    let welcome = try #require(
                        try await fixture.database.query(
                            "SELECT event_id FROM deliveries WHERE recipient_id = \(fixture.member) AND channel = 'sms'",
                            logger: TestEnvironment.logger
                        ).collect().first?.decode(UUID.self)
                    )
                    #expect(try await fixture.published(DeliveryFailed.self, about: welcome) == 1)
                    #expect(
                        try await fixture.count(
                            "SELECT count(*) FROM scheduled_jobs WHERE payload IN (SELECT upper(id::text) FROM deliveries WHERE recipient_id = '\(fixture.member)')"
                        ) == 0
                    )
                }
            }
        }
    }

    @Test("quiet hours defer a member's message to 09:00 while a critical staff alert goes at once")
    func quietHours() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                fixture.clock.advance(by: 12.5 * 3600)  // 22:30 in Shanghai
                let expiring = try await fixture.publish(
                    PointsExpiring(
                        memberId: fixture.member,
                        points: 50,
                        expiresAt: NotificationFixture.morning.addingTimeInterval(7 * 86400),
                        daysBefore: 7
                    ),
                    aggregate: fixture.member,
                    producer: "membership"
                )
                let task = fixture.callbackCreated()
                let alert = try await fixture.publish(task, aggregate: task.complaintId.uuidString.lowercased(), producer: "feedback")
                let alerts = try await fixture.waitForDeliveries(of: alert) { $0.count == 3 && $0.allSatisfy { $0.status == "sent" } }
                #expect(alerts.allSatisfy { $0.status == "sent" })
                let night = try await fixture.waitForDeliveries(of: expiring) { $0.count == 2 && $0.contains { $0.status == "sent" } }
                #expect(night.first { $0.channel == "sms" }?.status == "deferred")
                #expect(night.first { $0.channel == "sms" }?.reason == "quiet_hours")
                #expect(night.first { $0.channel == "in_app" }?.status == "sent", "the inbox does not ring, so it needs no quiet hours")
                try await fixture.advance(by: 10 * 3600)  // 08:30: still quiet
                #expect(try await fixture.deliveries(of: expiring).first { $0.channel == "sms" }?.status == "deferred")
                try await fixture.advance(by: 31 * 60)  // 09:01
                let morning = try await fixture.waitForDeliveries(of: expiring) { $0.allSatisfy { $0.status == "sent" } }
                #expect(morning.allSatisfy { $0.status == "sent" })
            }
        }
    }

    @Test("opt-outs and an unsubscribe reply are respected; critical staff alerts are not affected")
    func optOuts() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                let member = try await fixture.token(.member, fixture.member)
                let (status, _) = try await fixture.send(
                    client,
                    .put,
                    "/api/v1/preferences",
                    token: member,
                    body: #"{"marketingOptOut": false, "serviceOptOut": true}"#
                )
                #expect(status == .ok)
                let tier = try await fixture.publish(
                    TierChanged(memberId: fixture.member, fromTier: "silver", toTier: "gold", reason: "purchase_qualified", qualifyingSpendCents: 1),
                    aggregate: fixture.member,
                    producer: "membership"
                )
                let tierRows = try await fixture.waitForDeliveries(of: tier) { $0.count == 2 }
                #expect(tierRows.allSatisfy { $0.status == "skipped" && $0.reason == "service_opted_out" })
                // "td" from the member's phone, as the gateway reports it (national format).
                let service = try await fixture.token(.service, "sms-gateway")
                let national = String(fixture.memberPhone.dropFirst(3))
                let (replied, answer) = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/webhooks/sms-replies",
                    token: service,
                    body: #"{"from": "\#(national)", "text": " td "}"#
                )
                #expect(replied == .ok)
                #expect(String(decoding: answer, as: UTF8.self).contains(#""unsubscribed":true"#))
                let birthday = try await fixture.publish(
                    BirthdayToday(memberId: fixture.member, year: 2030, month: 3, day: 5),
                    aggregate: fixture.member,
                    producer: "membership"
                )
                let birthdayRows = try await fixture.waitForDeliveries(of: birthday) { $0.count == 2 }
                #expect(birthdayRows.allSatisfy { $0.status == "skipped" && $0.reason == "marketing_opted_out" })
                let task = fixture.callbackCreated()
                let alert = try await fixture.publish(task, aggregate: task.complaintId.uuidString.lowercased(), producer: "feedback")
                #expect(try await fixture.waitForDeliveries(of: alert) { $0.count == 3 && $0.allSatisfy { $0.status == "sent" } }.count == 3)
            }
        }
    }

    @Test("the daily marketing cap holds back the messages over it")
    func dailyCap() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app(settings: NotificationFixture.settings(cap: 1)).test(.router) { client in
                try await fixture.seedOrganisation(client)
                // One event's own messages (greeting now, reminder at month end) count once.
                let first = try await fixture.publish(
                    BirthdayMonthStarted(memberId: fixture.member, year: 2030, month: 3, day: 5),
                    aggregate: fixture.member,
                    producer: "membership"
                )
                let firstRows = try await fixture.waitForDeliveries(of: first) { $0.count == 4 && $0.filter { $0.status == "sent" }.count == 2 }
                #expect(firstRows.filter { $0.status == "sent" }.count == 2 && firstRows.filter { $0.status == "deferred" }.count == 2)
                let second = try await fixture.publish(
                    BirthdayToday(memberId: fixture.member, year: 2030, month: 3, day: 5),
                    aggregate: fixture.member,
                    producer: "membership"
                )
                let rows = try await fixture.waitForDeliveries(of: second) { $0.count == 2 }
                #expect(rows.count == 2 && rows.allSatisfy { $0.status == "skipped" && $0.reason == "daily_cap" })
                // The next day on the member's clock, the cap starts again.
                try await fixture.advance(by: 86400)
                let third = try await fixture.publish(
                    BirthdayToday(memberId: fixture.member, year: 2031, month: 3, day: 6),
                    aggregate: fixture.member,
                    producer: "membership"
                )
                #expect(
                    try await fixture.waitForDeliveries(of: third) { $0.count == 2 && $0.allSatisfy { $0.status == "sent" } }.allSatisfy {
                        $0.status == "sent"
                    }
                )
            }
        }
    }

    @Test("marketing events for one member handled at once on both lanes still send one day's share")
    func racingCap() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app(settings: NotificationFixture.settings(cap: 1)).test(.router) { client in
                try await fixture.seedOrganisation(client)
                // Published together and of different aggregates, so the consumer's two lanes
                // take them side by side.
                let events = (0..<12).map { _ in UUID() }
                try await fixture.bus.publish(
                    try events.enumerated().map { index, id in
                        try BusStandIn.event(
                            BirthdayToday(memberId: fixture.member, year: 2030 + index, month: 3, day: 5),
                            aggregate: "\(fixture.member)-\(index)",
                            producer: "membership",
                            id: id
                        )
                    },
                    producer: "membership"
                )
                var sending = 0
                for event in events {
                    let rows = try await fixture.waitForDeliveries(of: event) { $0.count == 2 }
                    if rows.contains(where: { $0.status != "skipped" }) { sending += 1 }
                }
                #expect(sending == 1)
            }
        }
    }
}
