import AftercareContracts
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FeedbackService

@Suite("Complaints, callback tasks and escalation on a real PostgreSQL and RabbitMQ", .timeLimit(.minutes(3)))
struct CallbackEscalationTests {
    @Test("a complaint puts a callback task due in five minutes in front of the member's guide")
    func taskForGuide() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let opened = try await fixture.openComplaint(client)
                #expect(opened.callbackTask.level == .guide)
                #expect(opened.callbackTask.assigneeId == fixture.guide)
                #expect(opened.callbackTask.dueAt == fixture.clock.now().addingTimeInterval(300))
                let guideToken = try await fixture.token(.guide, fixture.guide)
                try await client.execute(uri: "/api/v1/callback-tasks/mine", method: .get, headers: .bearer(guideToken)) { response in
                    let mine = try JSONDecoder.iso.decode(ComplaintDesk.TaskList.self, from: Data(buffer: response.body))
                    #expect(mine.tasks.map(\.id) == [opened.callbackTask.id])
                    #expect(mine.tasks.first?.secondsRemaining == 300)
                }
                #expect(try await fixture.published(ComplaintOpened.eventType) == 1)
                #expect(try await fixture.published(CallbackCreated.eventType) == 1)
            }
        }
    }

    @Test("with no callback the task climbs the ladder, exactly once per level, and stops at the HQ desk")
    func escalatesUpTheLadder() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                _ = try await fixture.openComplaint(client)
                try await fixture.advance(by: 299)
                #expect(try await fixture.taskLevel() == ("guide", fixture.guide))

                try await fixture.advance(by: 2)
                #expect(try await eventually { try await fixture.taskLevel() == ("store_manager", fixture.manager) })
                try await fixture.advance(by: 1)
                #expect(try await fixture.published(CallbackEscalated.eventType) == 1)

                try await fixture.advance(by: 300)
                #expect(try await eventually { try await fixture.taskLevel() == ("dealer_admin", fixture.dealerAdmin) })
                try await fixture.advance(by: 600)
                #expect(try await eventually { try await fixture.taskLevel() == ("hq_desk", nil) })
                try await fixture.advance(by: 3600)
                #expect(try await fixture.published(CallbackEscalated.eventType) == 3)
                #expect(try await fixture.count("SELECT count(*) FROM scheduled_jobs WHERE kind = '\(ComplaintDesk.escalationJob)'") == 0)
            }
        }
    }

    @Test("a callback in time stops the clock: no escalation ever, and the promise is recorded as kept")
    func callbackInTime() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let opened = try await fixture.openComplaint(client)
                fixture.clock.advance(by: 120)
                let guideToken = try await fixture.token(.guide, fixture.guide)
                try await client.execute(
                    uri: "/api/v1/callback-tasks/\(opened.callbackTask.id)/calls",
                    method: .post,
                    headers: .bearer(guideToken),
                    body: ByteBuffer(string: #"{"reached": false, "note": "no answer"}"#)
                ) { response in
                    #expect(response.status == .ok)
                }
                try await client.execute(
                    uri: "/api/v1/callback-tasks/\(opened.callbackTask.id)/calls",
                    method: .post,
                    headers: .bearer(guideToken),
                    body: ByteBuffer(string: #"{"reached": true, "note": "apologised, technician booked"}"#)
                ) { response in
                    #expect(response.status == .ok)
                    let task = try JSONDecoder.iso.decode(CallbackTaskView.self, from: Data(buffer: response.body))
                    #expect(task.status == "completed")
                }
                try await fixture.advance(by: 7200)
                #expect(try await fixture.published(CallbackEscalated.eventType) == 0)
                #expect(try await fixture.published(CallbackCompleted.eventType) == 1)
                #expect(try await fixture.count("SELECT count(*) FROM callback_tasks WHERE met_promise") == 1)
                let kinds = try await fixture.database.query("SELECT kind FROM complaint_timeline ORDER BY id", logger: TestEnvironment.logger)
                    .collect().map { try $0.decode(String.self) }
                #expect(kinds == ["opened", "callback_created", "call_not_reached", "called_back"])
                try await client.execute(
                    uri: "/api/v1/callback-tasks/\(opened.callbackTask.id)/calls",
                    method: .post,
                    headers: .bearer(guideToken),
                    body: ByteBuffer(string: #"{"reached": true}"#)
                ) { response in
                    #expect(response.status == .conflict)
                }
            }
        }
    }

    @Test("a deadline that passed while the service was down fires once on start")
    func restartAcrossDeadline() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                _ = try await fixture.openComplaint(client)
            }
            fixture.clock.advance(by: 301)  // the deadline passes while nothing runs
            try await fixture.app().test(.live) { _ in
                #expect(try await eventually { try await fixture.taskLevel() == ("store_manager", fixture.manager) })
                try await Task.sleep(for: .seconds(1))
                #expect(try await fixture.published(CallbackEscalated.eventType) == 1)
            }
        }
    }

    @Test("two replicas escalate a task once")
    func twoReplicas() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { first in
                try await fixture.app().test(.live) { _ in
                    try await fixture.seedOrganisation(first)
                    _ = try await fixture.openComplaint(first)
                    try await fixture.advance(by: 301)
                    #expect(try await eventually { try await fixture.taskLevel() == ("store_manager", fixture.manager) })
                    try await fixture.advance(by: 1)
                    #expect(try await fixture.published(CallbackEscalated.eventType) == 1)
                    #expect(try await fixture.count("SELECT count(*) FROM complaint_timeline WHERE kind = 'escalated'") == 1)
                }
            }
        }
    }

    @Test("when the guide has left, the task starts with the store manager")
    func guideLeft() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client, guideActive: false)
                let opened = try await fixture.openComplaint(client)
                #expect(opened.callbackTask.level == .storeManager)
                #expect(opened.callbackTask.assigneeId == fixture.manager)
            }
        }
    }

    @Test("scope: staff of another store see nothing; members complain only for themselves")
    func scope() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let opened = try await fixture.openComplaint(client)
                let outsider = try await fixture.token(.guide, "\(fixture.prefix)g-9", store: "\(fixture.prefix)s-9")
                try await client.execute(uri: "/api/v1/complaints/\(opened.complaintId)", method: .get, headers: .bearer(outsider)) { response in
                    #expect(response.status == .notFound)
                }
                try await client.execute(
                    uri: "/api/v1/callback-tasks/\(opened.callbackTask.id)/calls",
                    method: .post,
                    headers: .bearer(outsider),
                    body: ByteBuffer(string: #"{"reached": true}"#)
                ) { response in
                    #expect(response.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/callback-tasks/mine", method: .get, headers: .bearer(outsider)) { response in
                    let mine = try JSONDecoder.iso.decode(ComplaintDesk.TaskList.self, from: Data(buffer: response.body))
                    #expect(mine.tasks.isEmpty)
                }
                let colleague = try await fixture.token(.guide, "\(fixture.prefix)g-2")
                try await client.execute(uri: "/api/v1/complaints/\(opened.complaintId)", method: .get, headers: .bearer(colleague)) { response in
                    #expect(response.status == .ok)
                    let detail = try JSONDecoder.iso.decode(ComplaintDesk.Detail.self, from: Data(buffer: response.body))
                    #expect(detail.timeline?.map(\.kind) == ["opened", "callback_created"])
                }
                let otherMember = try await fixture.token(.member, "\(fixture.prefix)m-2")
                let body = #"{"memberId": "\#(fixture.member)", "channel": "hotline", "category": "other", "severity": "low", "description": "x"}"#
                try await client.execute(uri: "/api/v1/complaints", method: .post, headers: .bearer(otherMember), body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .forbidden)
                }
                let technician = try await fixture.token(.technician, "t-1")
                try await client.execute(uri: "/api/v1/callback-tasks/mine", method: .get, headers: .bearer(technician)) { response in
                    #expect(response.status == .forbidden)
                }
            }
        }
    }

    @Test("fifty concurrent complaints with one Idempotency-Key give one complaint and one callback task")
    func oneKey() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().race { client in
                try await fixture.seedOrganisation(client)
                let opened = try await concurrently(50) { _ in try await fixture.openComplaint(client, key: "complaint-\(fixture.prefix)") }
                #expect(Set(opened.map(\.complaintId)).count == 1)
                #expect(Set(opened.map(\.callbackTask.id)).count == 1)
                #expect(try await fixture.count("SELECT count(*) FROM complaints") == 1)
                #expect(try await fixture.count("SELECT count(*) FROM callback_tasks") == 1)
                #expect(try await fixture.published(CallbackCreated.eventType) == 1)
                // The key is the member's own: the guide sending the same key opens another complaint.
                let headers = HTTPFields([
                    .init(name: .authorization, value: "Bearer \(try await fixture.token(.guide, fixture.guide))"),
                    .init(name: .idempotencyKey, value: "complaint-\(fixture.prefix)"),
                ])
                let body =
                    #"{"memberId": "\#(fixture.member)", "channel": "hotline", "category": "other", "severity": "low", "description": "Asked again"}"#
                let status = try await client.execute(uri: "/api/v1/complaints", method: .post, headers: headers, body: ByteBuffer(string: body)) {
                    $0.status
                }
                #expect(status == .created)
                #expect(try await fixture.count("SELECT count(*) FROM complaints") == 2)
            }
        }
    }

    @Test("bad input is a problem+json naming the fields; a retried POST with the same Idempotency-Key creates nothing new")
    func badInputAndIdempotency() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.live) { client in
                try await fixture.seedOrganisation(client)
                let memberToken = try await fixture.token(.member, fixture.member)
                let bad = #"{"channel": "fax", "category": "product_quality", "severity": "high", "description": ""}"#
                try await client.execute(uri: "/api/v1/complaints", method: .post, headers: .bearer(memberToken), body: ByteBuffer(string: bad)) {
                    response in
                    #expect(response.status == .unprocessableContent)
                    let problem = try response.problem()
                    #expect(Set(problem.errors?.map(\.field) ?? []) == ["channel", "description"])
                }
                try await client.execute(uri: "/api/v1/complaints", method: .post, headers: .bearer(memberToken), body: ByteBuffer(string: "{")) {
                    response in
                    #expect(response.status == .badRequest)
                }
                let first = try await fixture.openComplaint(client, key: "complaint-\(fixture.prefix)")
                let again = try await fixture.openComplaint(client, key: "complaint-\(fixture.prefix)")
                #expect(first.complaintId == again.complaintId)
                #expect(try await fixture.count("SELECT count(*) FROM complaints") == 1)
                #expect(try await fixture.published(CallbackCreated.eventType) == 1)
            }
        }
    }
}
