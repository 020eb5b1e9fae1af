import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FeedbackService

@Suite("Reviews after service visits on a real PostgreSQL and RabbitMQ", .timeLimit(.minutes(3)))
struct ReviewTests {
    func completed(_ fixture: FeedbackFixture, order: String, technicians: [String]) -> ServiceOrderCompleted {
        ServiceOrderCompleted(
            orderId: "\(fixture.prefix)\(order)",
            memberId: fixture.member,
            storeId: fixture.store,
            dealerId: fixture.dealer,
            serviceType: "installation",
            technicianIds: technicians,
            completedAt: fixture.clock.now()
        )
    }

    /// Every test's queue sees every test's dispatch events: count only this test's order.
    func requested(_ fixture: FeedbackFixture, _ order: String) async throws -> Int {
        try await fixture.count(
            "SELECT count(*) FROM outbox WHERE event_type = '\(ReviewRequested.eventType)' AND envelope::jsonb #>> '{payload,orderId}' = '\(order)'"
        )
    }

    func waitForRequest(_ fixture: FeedbackFixture, order: String) async throws -> UUID {
        let arrived = try await eventually(timeout: .seconds(20)) {
            try await fixture.count("SELECT count(*) FROM review_requests WHERE service_order_id = '\(fixture.prefix)\(order)'") == 1
        }
        guard arrived else { throw FixtureError(message: "no review request for \(order)") }
        return try await fixture.database.query(
            "SELECT id FROM review_requests WHERE service_order_id = \("\(fixture.prefix)\(order)")",
            logger: TestEnvironment.logger
        )
        .collect().first?.decode(UUID.self) ?? UUID()
    }

    @Test("a completed visit asks the member once, whatever the redeliveries; a good review is published and opens nothing")
    func goodReview() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let visit = completed(fixture, order: "o-1", technicians: ["t-1", "t-2"])
                // The same order completed twice (a dispatch retry): one request.
                try await fixture.publish([visit, visit], aggregate: visit.orderId, producer: "dispatch")
                let id = try await waitForRequest(fixture, order: "o-1")
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await requested(fixture, visit.orderId) == 1)

                let member = try await fixture.token(.member, fixture.member, store: nil, dealer: nil)
                let mine = try JSONDecoder.iso.decode(
                    ReviewController.Mine.self,
                    from: try await fixture.send(client, .get, "/api/v1/review-requests/mine", token: member).1
                )
                #expect(mine.requests.map(\.id) == [id])
                #expect(mine.requests.first?.expiresAt == visit.completedAt.addingTimeInterval(7 * 86400))
                #expect(mine.requests.first?.technicianIds == ["t-1", "t-2"])

                let body =
                    #"{"visitRating": 5, "technicianRatings": [{"technicianId": "t-1", "rating": 5}, {"technicianId": "t-2", "rating": 4}], "comment": "Tidy work."}"#
                let answer = try await fixture.send(client, .post, "/api/v1/review-requests/\(id)/review", token: member, body: body)
                #expect(answer.0 == .created)
                let submitted = try JSONDecoder.iso.decode(ReviewDesk.Submitted.self, from: answer.1)
                #expect(submitted.complaint == nil)
                #expect(try await fixture.published(ReviewSubmitted.eventType) == 1)
                #expect(try await fixture.published(ComplaintOpened.eventType) == 0)
                #expect(try await fixture.send(client, .post, "/api/v1/review-requests/\(id)/review", token: member, body: body).0 == .conflict)
                let after = try JSONDecoder.iso.decode(
                    ReviewController.Mine.self,
                    from: try await fixture.send(client, .get, "/api/v1/review-requests/mine", token: member).1
                )
                #expect(after.requests.isEmpty)
                // Staff of the store can read it; its expiry timer is gone.
                let manager = try await fixture.token(.storeManager, fixture.manager)
                #expect(try await fixture.send(client, .get, "/api/v1/review-requests/\(id)", token: manager).0 == .ok)
                #expect(
                    try await fixture.count(
                        "SELECT count(*) FROM scheduled_jobs WHERE kind = '\(ReviewInvitations.expiryJob)' AND payload = '\(id.uuidString.lowercased())'"
                    ) == 0
                )
            }
        }
    }

    @Test("a low rating for one technician opens a complaint about the visit, with its callback task at the guide")
    func lowReviewOpensComplaint() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let visit = completed(fixture, order: "o-2", technicians: ["t-1"])
                try await fixture.publish([visit], aggregate: visit.orderId, producer: "dispatch")
                let id = try await waitForRequest(fixture, order: "o-2")
                let member = try await fixture.token(.member, fixture.member, store: nil, dealer: nil)
                let body = #"{"visitRating": 4, "technicianRatings": [{"technicianId": "t-1", "rating": 1}], "comment": "Left a mess."}"#
                let answer = try await fixture.send(client, .post, "/api/v1/review-requests/\(id)/review", token: member, body: body)
                #expect(answer.0 == .created)
                let opened = try #require(try JSONDecoder.iso.decode(ReviewDesk.Submitted.self, from: answer.1).complaint)
                #expect(opened.callbackTask.level == .guide)
                #expect(opened.callbackTask.assigneeId == fixture.guide)
                #expect(opened.callbackTask.dueAt == fixture.clock.now().addingTimeInterval(300))
                let row = try await fixture.database.query(
                    "SELECT channel, category, severity, related_reference, description FROM complaints WHERE id = \(opened.complaintId)",
                    logger: TestEnvironment.logger
                ).collect().first?.decode((String, String, String, String?, String).self)
                #expect(row?.0 == "review" && row?.1 == "service_visit" && row?.2 == "high")
                #expect(row?.3 == visit.orderId)
                #expect(row?.4.contains("Left a mess.") == true)
                #expect(try await fixture.published(CallbackCreated.eventType) == 1)
                #expect(
                    try await fixture.count(
                        "SELECT count(*) FROM outbox WHERE event_type = '\(ReviewSubmitted.eventType)' AND envelope::jsonb #>> '{payload,complaintId}' = '\(opened.complaintId.uuidString.lowercased())'"
                    ) == 1
                )
            }
        }
    }

    @Test("bad ratings are named; another member's request is not found; a lapsed request is refused")
    func badInputAndExpiry() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let visit = completed(fixture, order: "o-3", technicians: ["t-1", "t-2"])
                try await fixture.publish([visit], aggregate: visit.orderId, producer: "dispatch")
                let id = try await waitForRequest(fixture, order: "o-3")
                let member = try await fixture.token(.member, fixture.member, store: nil, dealer: nil)
                let uri = "/api/v1/review-requests/\(id)/review"

                let outOfRange = try await fixture.send(
                    client,
                    .post,
                    uri,
                    token: member,
                    body: #"{"visitRating": 6, "technicianRatings": [{"technicianId": "t-1", "rating": 0}, {"technicianId": "t-2", "rating": 3}]}"#
                )
                #expect(outOfRange.0 == .unprocessableContent)
                let text = String(decoding: outOfRange.1, as: UTF8.self)
                #expect(text.contains("visitRating") && text.contains("technicianRatings[0].rating"))
                let missing = try await fixture.send(
                    client,
                    .post,
                    uri,
                    token: member,
                    body: #"{"visitRating": 5, "technicianRatings": [{"technicianId": "t-1", "rating": 5}]}"#
                )
                #expect(missing.0 == .unprocessableContent)
                #expect(String(decoding: missing.1, as: UTF8.self).contains("technicianRatings"))
                let stranger = try await fixture.token(.member, "\(fixture.prefix)m-9", store: nil, dealer: nil)
                #expect(
                    try await fixture.send(client, .post, uri, token: stranger, body: #"{"visitRating": 5, "technicianRatings": []}"#).0 == .notFound
                )
                let otherStore = try await fixture.token(.guide, "\(fixture.prefix)g-9", store: "\(fixture.prefix)s-9")
                #expect(try await fixture.send(client, .get, "/api/v1/review-requests/\(id)", token: otherStore).0 == .notFound)

                try await fixture.advance(by: 7 * 86400 + 1)
                #expect(
                    try await eventually {
                        try await fixture.count("SELECT count(*) FROM review_requests WHERE status = 'expired' AND id = '\(id)'") == 1
                    }
                )
                let late = try await fixture.send(
                    client,
                    .post,
                    uri,
                    token: member,
                    body: #"{"visitRating": 5, "technicianRatings": [{"technicianId": "t-1", "rating": 5}, {"technicianId": "t-2", "rating": 5}]}"#
                )
                #expect(late.0 == .conflict)
                #expect(String(decoding: late.1, as: UTF8.self).contains("expired"))
                #expect(try await fixture.published(ReviewSubmitted.eventType) == 0)
            }
        }
    }
}
