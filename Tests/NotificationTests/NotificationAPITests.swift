import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import NotificationService

/// Templates and rules (HQ), the delivery search (staff, scoped), the inbox, preferences
/// and the provider webhooks, on a real database and broker.
@Suite("Notification API", .serialized, .timeLimit(.minutes(3)))
struct NotificationAPITests {
    @Test("a template using a variable its event does not carry is refused, naming the variable")
    func templateVariables() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let hq = try await fixture.token(.hqAdmin, "hq-1")
                let body =
                    #"{"eventType": "feedback.callback.created", "bodies": {"zh-CN": "请回电 {{taskId}}", "en": "Call {{couponCode}} by {{dueAt}}"}}"#
                try await client.execute(uri: "/api/v1/templates/callback_task", method: .put, headers: .bearer(hq), body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.isProblemJSON)
                    let errors = try response.problem().errors ?? []
                    #expect(
                        errors == [FieldProblem(field: "bodies.en", message: "uses {{couponCode}}, which feedback.callback.created does not carry")]
                    )
                }
                let good =
                    #"{"eventType": "feedback.callback.created", "bodies": {"zh-CN": "请回电 {{taskId}}", "en": "Call back by {{dueAt}}, {{recipientName}}"}}"#
                let (status, _) = try await fixture.send(client, .put, "/api/v1/templates/callback_task", token: hq, body: good)
                #expect(status == .ok)
                let guide = try await fixture.token(.guide, fixture.guide)
                #expect(try await fixture.send(client, .put, "/api/v1/templates/callback_task", token: guide, body: good).0 == .forbidden)
                let (all, allData) = try await fixture.send(client, .get, "/api/v1/templates", token: hq)
                #expect(all == .ok)
                #expect(
                    try JSONDecoder.iso.decode(ConfigurationController.Templates.self, from: allData).templates.count
                        == OutOfTheBox.allTemplates.count
                )
                let (rules, rulesData) = try await fixture.send(client, .get, "/api/v1/rules", token: hq)
                #expect(rules == .ok)
                #expect(
                    try JSONDecoder.iso.decode(ConfigurationController.Rules.self, from: rulesData).rules.count == OutOfTheBox.allRules.count
                )
                let (listed, data) = try await fixture.send(client, .get, "/api/v1/templates/callback_task", token: hq)
                #expect(listed == .ok)
                #expect(try JSONDecoder.iso.decode(MessageTemplate.self, from: data).bodies["zh-CN"] == "请回电 {{taskId}}")
            }
        }
    }

    @Test("a rule added through the API sends a message for an event no rule covered: configuration, not code")
    func configuredRule() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                let hq = try await fixture.token(.hqAdmin, "hq-1")
                let template =
                    #"{"eventType": "dispatch.order.completed", "bodies": {"zh-CN": "{{recipientName}}，订单 {{orderId}} 的{{serviceType}}服务已完成。"}}"#
                #expect(try await fixture.send(client, .put, "/api/v1/templates/order_done", token: hq, body: template).0 == .ok)
                let wrongEvent =
                    #"{"eventType": "membership.tier.changed", "templateKey": "order_done", "recipient": "guide", "channels": ["in_app"], "category": "service"}"#
                let (refused, problem) = try await fixture.send(client, .put, "/api/v1/rules/order-done-guide", token: hq, body: wrongEvent)
                #expect(refused == .unprocessableContent)
                #expect(String(decoding: problem, as: UTF8.self).contains("templateKey"))
                let rule =
                    #"{"eventType": "dispatch.order.completed", "templateKey": "order_done", "recipient": "guide", "channels": ["in_app", "sms"], "category": "service"}"#
                #expect(try await fixture.send(client, .put, "/api/v1/rules/order-done-guide", token: hq, body: rule).0 == .ok)
                let completed = ServiceOrderCompleted(
                    orderId: "so-9",
                    memberId: fixture.member,
                    storeId: fixture.store,
                    dealerId: fixture.dealer,
                    serviceType: "installation",
                    technicianIds: ["t-1"],
                    completedAt: NotificationFixture.morning
                )
                let event = try await fixture.publish(completed, aggregate: "so-9", producer: "dispatch")
                let rows = try await fixture.waitForDeliveries(of: event) {
                    $0.filter { $0.recipient == fixture.guide && $0.status == "sent" }.count == 2
                }
                let guideRows = rows.filter { $0.recipient == fixture.guide }
                #expect(guideRows.count == 2 && guideRows.allSatisfy { $0.body == "Li Na，订单 so-9 的installation服务已完成。" && $0.status == "sent" })
                #expect(try await fixture.send(client, .delete, "/api/v1/rules/order-done-guide", token: hq).0 == .noContent)
                #expect(try await fixture.send(client, .delete, "/api/v1/rules/order-done-guide", token: hq).0 == .notFound)
            }
        }
    }

    @Test("staff search deliveries within their scope; everyone reads and marks their own inbox")
    func searchAndInbox() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                let task = fixture.callbackCreated()
                let event = try await fixture.publish(task, aggregate: task.complaintId.uuidString.lowercased(), producer: "feedback")
                _ = try await fixture.waitForDeliveries(of: event) { $0.count == 3 && $0.allSatisfy { $0.status == "sent" } }
                let manager = try await fixture.token(.storeManager, fixture.manager)
                let (found, data) = try await fixture.send(client, .get, "/api/v1/deliveries?eventId=\(event)&status=sent&limit=2", token: manager)
                #expect(found == .ok)
                let page = try JSONDecoder.iso.decode(DeliveryPage.self, from: data)
                #expect(page.deliveries.count == 2 && page.nextCursor != nil)
                let (_, rest) = try await fixture.send(
                    client,
                    .get,
                    "/api/v1/deliveries?eventId=\(event)&status=sent&limit=2&cursor=\(page.nextCursor ?? "")",
                    token: manager
                )
                #expect(try JSONDecoder.iso.decode(DeliveryPage.self, from: rest).deliveries.count == 1)
                let otherStore = try await fixture.token(.storeManager, "sm-x", store: "elsewhere")
                let (_, none) = try await fixture.send(client, .get, "/api/v1/deliveries?eventId=\(event)", token: otherStore)
                #expect(try JSONDecoder.iso.decode(DeliveryPage.self, from: none).deliveries.isEmpty)
                let smsId = try #require(try await fixture.deliveries(of: event).first { $0.channel == "sms" }?.id)
                #expect(try await fixture.send(client, .get, "/api/v1/deliveries/\(smsId)", token: otherStore).0 == .notFound)
                let (detail, detailData) = try await fixture.send(client, .get, "/api/v1/deliveries/\(smsId)", token: manager)
                #expect(detail == .ok)
                #expect(try JSONDecoder.iso.decode(DeliveryController.Detail.self, from: detailData).attempts.map(\.outcome) == ["accepted"])
                let (bad, badData) = try await fixture.send(client, .get, "/api/v1/deliveries?status=lost&eventId=nope", token: manager)
                #expect(bad == .unprocessableContent)
                let fields = try JSONDecoder().decode(ProblemBody.self, from: badData).errors?.map(\.field)
                #expect(fields == ["eventId", "status"])

                let guide = try await fixture.token(.guide, fixture.guide)
                let (_, inboxData) = try await fixture.send(client, .get, "/api/v1/inbox?unread=true", token: guide)
                let inbox = try JSONDecoder.iso.decode(DeliveryPage.self, from: inboxData)
                #expect(inbox.deliveries.count == 1 && inbox.deliveries.first?.channel == "in_app")
                let message = try #require(inbox.deliveries.first?.id)
                #expect(try await fixture.send(client, .post, "/api/v1/inbox/\(message)/read", token: manager).0 == .notFound)
                #expect(try await fixture.send(client, .post, "/api/v1/inbox/\(message)/read", token: guide).0 == .noContent)
                let (_, after) = try await fixture.send(client, .get, "/api/v1/inbox?unread=true", token: guide)
                #expect(try JSONDecoder.iso.decode(DeliveryPage.self, from: after).deliveries.isEmpty)
            }
        }
    }

    @Test("the contact projection keeps the newest: a late, older registration does not undo an update")
    func projectionOrder() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)  // registration, sequence 1
                let newPhone = "+8613911110000"
                let aggregate = "member-\(fixture.member)"
                try await fixture.bus.publish(
                    [
                        try BusStandIn.event(
                            MemberUpdated(
                                memberId: fixture.member,
                                phone: newPhone,
                                name: "Zhang San",
                                serviceMessagesConsent: true,
                                marketingConsent: false,
                                tags: [],
                                changedFields: ["phone"]
                            ),
                            aggregate: aggregate,
                            producer: "membership",
                            sequence: 3
                        ),
                        // The registration again, as a retry would bring it late: older than the update.
                        try BusStandIn.event(
                            MemberRegistered(
                                memberId: fixture.member,
                                guideId: fixture.guide,
                                storeId: fixture.store,
                                dealerId: fixture.dealer,
                                serviceMessagesConsent: true,
                                marketingConsent: true,
                                phone: fixture.memberPhone,
                                name: "Zhang San"
                            ),
                            aggregate: aggregate,
                            producer: "membership",
                            sequence: 1
                        ),
                        try BusStandIn.event(
                            MemberGuideReassigned(
                                memberId: fixture.member,
                                fromGuideId: fixture.guide,
                                toGuideId: "\(fixture.prefix)g-2",
                                storeId: fixture.store
                            ),
                            aggregate: aggregate,
                            producer: "membership",
                            sequence: 4
                        ),
                    ],
                    producer: "membership"
                )
                // The reassignment is the last of the member's events: once it shows, all three were handled.
                #expect(
                    try await eventually(timeout: .seconds(30)) {
                        try await fixture.count(
                            "SELECT count(*) FROM members WHERE member_id = '\(fixture.member)' AND guide_id = '\(fixture.prefix)g-2'"
                        ) == 1
                    }
                )
                #expect(
                    try await fixture.count(
                        "SELECT count(*) FROM members WHERE member_id = '\(fixture.member)' AND phone = '\(newPhone)' AND NOT marketing_consent"
                    ) == 1
                )
            }
        }
    }

    @Test("provider receipts mark a delivery delivered, or failed with the failure published")
    func receipts() async throws {
        try await NotificationFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await fixture.seedOrganisation(client)
                let task = fixture.callbackCreated()
                let event = try await fixture.publish(task, aggregate: task.complaintId.uuidString.lowercased(), producer: "feedback")
                let rows = try await fixture.waitForDeliveries(of: event) { $0.count == 3 && $0.allSatisfy { $0.status == "sent" } }
                let sms = try #require(rows.first { $0.channel == "sms" })
                let oa = try #require(rows.first { $0.channel == "official_account" })
                let service = try await fixture.token(.service, "gateway")
                let delivered = #"{"reference": "\#(sms.id)", "status": "delivered"}"#
                #expect(try await fixture.send(client, .post, "/api/v1/webhooks/delivery-receipts", token: service, body: delivered).0 == .noContent)
                #expect(try await fixture.count("SELECT count(*) FROM deliveries WHERE id = '\(sms.id)' AND delivered_at IS NOT NULL") == 1)
                let failed = #"{"reference": "\#(oa.id)", "status": "failed", "detail": "user unfollowed"}"#
                #expect(try await fixture.send(client, .post, "/api/v1/webhooks/delivery-receipts", token: service, body: failed).0 == .noContent)
                #expect(try await fixture.deliveries(of: event).first { $0.channel == "official_account" }?.status == "failed")
                #expect(try await fixture.published(DeliveryFailed.self, about: event) == 1)
                let unknown = #"{"reference": "\#(UUID())", "status": "delivered"}"#
                #expect(try await fixture.send(client, .post, "/api/v1/webhooks/delivery-receipts", token: service, body: unknown).0 == .notFound)
                let (invalid, problem) = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/webhooks/delivery-receipts",
                    token: service,
                    body: #"{"reference": "x", "status": "lost"}"#
                )
                #expect(invalid == .unprocessableContent)
                #expect(try JSONDecoder().decode(ProblemBody.self, from: problem).errors?.map(\.field) == ["reference", "status"])
            }
        }
    }
}
