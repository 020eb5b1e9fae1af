import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FeedbackService

@Suite("Complaint lifecycle, retries, dealer deadlines and store hours on a real PostgreSQL and RabbitMQ", .timeLimit(.minutes(3)))
struct ComplaintLifecycleTests {
    @Test("called back → in progress → resolved → confirmed by the member; reopened within the window with a new task at the guide")
    func resolveConfirmReopen() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let opened = try await fixture.openComplaint(client)
                let id = opened.complaintId
                let guide = try await fixture.token(.guide, fixture.guide)
                let member = try await fixture.token(.member, fixture.member, store: nil, dealer: nil)

                // Nothing can be resolved before the member was called back.
                let early = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/complaints/\(id)/resolve",
                    token: guide,
                    body: #"{"resolution": "replaced"}"#
                )
                #expect(early.0 == .conflict)
                #expect(String(decoding: early.1, as: UTF8.self).contains("opened"))

                _ = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/callback-tasks/\(opened.callbackTask.id)/calls",
                    token: guide,
                    body: #"{"reached": true}"#
                )
                #expect(
                    try await fixture.send(client, .post, "/api/v1/complaints/\(id)/progress", token: guide, body: #"{"note": "technician booked"}"#)
                        .0 == .ok
                )
                #expect(try await fixture.complaintStatus(id) == "in_progress")
                // Members do not resolve; an empty resolution is named.
                #expect(
                    try await fixture.send(client, .post, "/api/v1/complaints/\(id)/resolve", token: member, body: #"{"resolution": "x"}"#).0
                        == .forbidden
                )
                let blank = try await fixture.send(client, .post, "/api/v1/complaints/\(id)/resolve", token: guide, body: #"{"resolution": "  "}"#)
                #expect(blank.0 == .unprocessableContent)
                #expect(String(decoding: blank.1, as: UTF8.self).contains("resolution"))

                let resolved = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/complaints/\(id)/resolve",
                    token: guide,
                    body: #"{"resolution": "Mattress replaced."}"#
                )
                #expect(resolved.0 == .ok)
                #expect(try await fixture.published(ComplaintResolved.eventType) == 1)

                // The member sees where it stands, not the internal trail.
                let seen = try await fixture.send(client, .get, "/api/v1/complaints/\(id)", token: member)
                let detail = try JSONDecoder.iso.decode(ComplaintDesk.Detail.self, from: seen.1)
                #expect(detail.status == "resolved")
                #expect(detail.resolution == "Mattress replaced.")
                #expect(detail.timeline == nil && detail.callbackTasks == nil)
                let someoneElse = try await fixture.token(.member, "\(fixture.prefix)m-9", store: nil, dealer: nil)
                #expect(try await fixture.send(client, .get, "/api/v1/complaints/\(id)", token: someoneElse).0 == .notFound)
                #expect(try await fixture.send(client, .post, "/api/v1/complaints/\(id)/close", token: someoneElse).0 == .notFound)

                #expect(try await fixture.send(client, .post, "/api/v1/complaints/\(id)/close", token: member).0 == .ok)
                #expect(try await fixture.complaintStatus(id) == "closed")
                #expect(
                    try await fixture.count(
                        "SELECT count(*) FROM outbox WHERE event_type = '\(ComplaintClosed.eventType)' AND envelope::jsonb #>> '{payload,closure}' = 'confirmed'"
                    ) == 1
                )
                // The quiet-period timer went with the confirmation.
                #expect(try await fixture.count("SELECT count(*) FROM scheduled_jobs WHERE kind = '\(ComplaintDesk.closeJob)'") == 0)
                #expect(try await fixture.send(client, .post, "/api/v1/complaints/\(id)/close", token: member).0 == .conflict)

                fixture.clock.advance(by: 3 * 86400)
                let reopened = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/complaints/\(id)/reopen",
                    token: member,
                    body: #"{"reason": "It sags again."}"#
                )
                #expect(reopened.0 == .created)
                let again = try JSONDecoder.iso.decode(ComplaintDesk.Opened.self, from: reopened.1)
                #expect(again.callbackTask.level == .guide)
                #expect(again.callbackTask.assigneeId == fixture.guide)
                #expect(again.callbackTask.id != opened.callbackTask.id)
                #expect(try await fixture.complaintStatus(id) == "opened")
                #expect(try await fixture.published(ComplaintReopened.eventType) == 1)
                #expect(try await fixture.published(CallbackCreated.eventType) == 2)
                let trail = try JSONDecoder.iso.decode(
                    ComplaintDesk.Detail.self,
                    from: try await fixture.send(client, .get, "/api/v1/complaints/\(id)", token: guide).1
                )
                #expect(
                    trail.timeline?.map(\.kind) == [
                        "opened", "callback_created", "called_back", "in_progress", "resolved", "closed", "reopened", "callback_created",
                    ]
                )
                #expect(trail.reopenedCount == 1)
            }
        }
    }

    @Test("a resolved complaint closes by itself after the quiet period, once; reopening after the window is refused")
    func quietPeriodThenWindow() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let opened = try await fixture.openComplaint(client)
                let manager = try await fixture.token(.storeManager, fixture.manager)
                _ = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/callback-tasks/\(opened.callbackTask.id)/calls",
                    token: manager,
                    body: #"{"reached": true}"#
                )
                #expect(
                    try await fixture.send(
                        client,
                        .post,
                        "/api/v1/complaints/\(opened.complaintId)/resolve",
                        token: manager,
                        body: #"{"resolution": "Refunded."}"#
                    ).0 == .ok
                )

                try await fixture.advance(by: 72 * 3600 - 10)
                #expect(try await fixture.complaintStatus(opened.complaintId) == "resolved")
                try await fixture.advance(by: 20)
                #expect(try await eventually { try await fixture.complaintStatus(opened.complaintId) == "closed" })
                try await fixture.advance(by: 3600)
                #expect(
                    try await fixture.count(
                        "SELECT count(*) FROM outbox WHERE event_type = '\(ComplaintClosed.eventType)' AND envelope::jsonb #>> '{payload,closure}' = 'quiet_period'"
                    ) == 1
                )

                fixture.clock.advance(by: 15 * 86400)
                let member = try await fixture.token(.member, fixture.member, store: nil, dealer: nil)
                let late = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/complaints/\(opened.complaintId)/reopen",
                    token: member,
                    body: #"{"reason": "again"}"#
                )
                #expect(late.0 == .conflict)
                #expect(String(decoding: late.1, as: UTF8.self).contains("open a new one"))
                #expect(try await fixture.published(ComplaintReopened.eventType) == 0)
            }
        }
    }

    @Test("a call that did not reach the member sets a retry time and reminds the assignee then, while the ladder keeps climbing")
    func notReachedRetry() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let opened = try await fixture.openComplaint(client)
                let guide = try await fixture.token(.guide, fixture.guide)
                let bad = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/callback-tasks/\(opened.callbackTask.id)/calls",
                    token: guide,
                    body: #"{"reached": false, "retryInMinutes": 0}"#
                )
                #expect(bad.0 == .unprocessableContent)
                #expect(String(decoding: bad.1, as: UTF8.self).contains("retryInMinutes"))

                fixture.clock.advance(by: 60)
                let call = try await fixture.send(
                    client,
                    .post,
                    "/api/v1/callback-tasks/\(opened.callbackTask.id)/calls",
                    token: guide,
                    body: #"{"reached": false, "note": "voicemail", "retryInMinutes": 2}"#
                )
                #expect(call.0 == .ok)
                let task = try JSONDecoder.iso.decode(CallbackTaskView.self, from: call.1)
                #expect(task.status == "open")
                #expect(task.retryAt == fixture.clock.now().addingTimeInterval(120))
                #expect(task.failedAttempts == 1)

                try await fixture.advance(by: 119)
                #expect(try await fixture.published(CallbackRetryDue.eventType) == 0)
                try await fixture.advance(by: 2)
                #expect(try await eventually { try await fixture.published(CallbackRetryDue.eventType) == 1 })
                // The guide's five minutes run out all the same.
                try await fixture.advance(by: 120)
                #expect(try await eventually { try await fixture.taskLevel() == ("store_manager", fixture.manager) })
                #expect(try await fixture.published(CallbackRetryDue.eventType) == 1)
            }
        }
    }

    @Test("HQ sets a dealer's own deadlines and new tasks follow them; a dealer admin reads but cannot set them")
    func dealerDeadlines() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let hq = try await fixture.token(.hqAdmin, "hq-1", store: nil, dealer: nil)
                let admin = try await fixture.token(.dealerAdmin, fixture.dealerAdmin, store: nil)
                let uri = "/api/v1/dealers/\(fixture.dealer)/escalation-policy"

                let defaults = try JSONDecoder.iso.decode(DealerPolicies.Stored.self, from: try await fixture.send(client, .get, uri, token: admin).1)
                #expect(defaults.custom == false)
                #expect(defaults.deadlines == .init(guideMinutes: 5, storeManagerMinutes: 5, dealerAdminMinutes: 10))
                #expect(
                    try await fixture.send(
                        client,
                        .put,
                        uri,
                        token: admin,
                        body: #"{"guideMinutes": 2, "storeManagerMinutes": 3, "dealerAdminMinutes": 4}"#
                    ).0 == .forbidden
                )
                let invalid = try await fixture.send(
                    client,
                    .put,
                    uri,
                    token: hq,
                    body: #"{"guideMinutes": 0, "storeManagerMinutes": 3, "dealerAdminMinutes": 4}"#
                )
                #expect(invalid.0 == .unprocessableContent)
                #expect(String(decoding: invalid.1, as: UTF8.self).contains("guideMinutes"))
                #expect(
                    try await fixture.send(
                        client,
                        .put,
                        uri,
                        token: hq,
                        body: #"{"guideMinutes": 2, "storeManagerMinutes": 3, "dealerAdminMinutes": 4}"#
                    ).0 == .ok
                )
                let otherDealer = try await fixture.token(.dealerAdmin, "\(fixture.prefix)da-9", store: nil, dealer: "\(fixture.prefix)d-9")
                #expect(try await fixture.send(client, .get, uri, token: otherDealer).0 == .notFound)

                let opened = try await fixture.openComplaint(client)
                #expect(opened.callbackTask.dueAt == fixture.clock.now().addingTimeInterval(120))
                try await fixture.advance(by: 121)
                #expect(try await eventually { try await fixture.taskLevel() == ("store_manager", fixture.manager) })
                let manager = try await fixture.token(.storeManager, fixture.manager)
                let task = try JSONDecoder.iso.decode(
                    CallbackTaskView.self,
                    from: try await fixture.send(client, .get, "/api/v1/callback-tasks/\(opened.callbackTask.id)", token: manager).1
                )
                #expect(task.secondsRemaining.map { (170...180).contains($0) } == true)

                // Reset: back to the defaults.
                let reset = try JSONDecoder.iso.decode(DealerPolicies.Stored.self, from: try await fixture.send(client, .delete, uri, token: hq).1)
                #expect(reset.custom == false)
            }
        }
    }

    @Test("while the store is closed by its hours the task starts at the HQ desk; in opening hours at the guide")
    func storeHours() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                // 10:00–22:00 every day in Shanghai; the fixture's clock reads 01:46 there.
                let hours = BusinessHours(days: (1...7).map { BusinessHours.Day(weekday: $0, opens: "10:00", closes: "22:00") })
                try await fixture.seedOrganisation(client, storeHours: hours)
                let night = try await fixture.openComplaint(client)
                #expect(night.callbackTask.level == .hqDesk)
                #expect(night.callbackTask.assigneeId == nil)
                #expect(night.callbackTask.dueAt == nil)

                fixture.clock.advance(by: 9 * 3600)  // 10:46 in Shanghai
                let day = try await fixture.openComplaint(client)
                #expect(day.callbackTask.level == .guide)
                #expect(day.callbackTask.assigneeId == fixture.guide)
            }
        }
    }
}
