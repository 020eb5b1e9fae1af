import AftercarePersistence
import AftercareTestSupport
import Foundation
import PostgresNIO
import Testing

/// A provider call stays on the delivery's record even when the send job's transaction is
/// lost after it (PostgreSQL ended the connection mid-call): the call is recorded before it is
/// made and its outcome after, apart from the job, and the retry sends the same key.
@Suite("A send interrupted by the database", .timeLimit(.minutes(3)))
struct InterruptedSendTests {
    @Test("a provider call whose job's transaction is ended appears on the delivery's record, and the retry reuses its idempotency key")
    func interruptedCall() async throws {
        try await NotificationFixture.with { fixture in
            try await withRunningClient(try makeClient(url: try TestEnvironment.adminDatabaseURL())) { admin in
                let interrupted = OnceFlag()
                let (database, guide) = (fixture.database, fixture.guide)
                let gateway = FakeGateway { received in
                    // Only the call for this test's own guide: every fixture's queue sees every
                    // test's events, and all the guides share one phone number.
                    guard let reference = received.body["reference"].flatMap(UUID.init(uuidString:)),
                        let ours = try? await database.rows(
                            "SELECT 1 FROM deliveries WHERE id = \(reference) AND recipient_id = \(guide)",
                            logger: TestEnvironment.logger
                        ),
                        !ours.isEmpty, interrupted.set()
                    else { return }
                    // The send job holds its transaction open around this call: end it.
                    _ = try? await admin.query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(fixture.databaseName) AND state = 'idle in transaction'",
                        logger: TestEnvironment.logger
                    ).collect()
                }
                try await gateway.running { sms in
                    try await fixture.app(settings: NotificationFixture.settings(sms: sms.baseURL)).test(.router) { client in
                        try await fixture.seedOrganisation(client)
                        let task = fixture.callbackCreated()
                        let event = try await fixture.publish(task, aggregate: task.complaintId.uuidString.lowercased(), producer: "feedback")
                        // The failed job is retried one second of business time later.
                        #expect(await eventually(timeout: .seconds(40)) { interrupted.isSet })
                        try await Task.sleep(for: .seconds(1))
                        let rows = try await fixture.waitForDeliveries(of: event) { $0.contains { $0.channel == "sms" } }
                        let delivery = try #require(rows.first { $0.channel == "sms" })
                        let reference = delivery.id.uuidString.lowercased()
                        let retried = await eventually(timeout: .seconds(40)) {
                            try? await fixture.advance(by: 2)
                            return sms.received.filter { $0.body["reference"] == reference }.count >= 2
                        }
                        #expect(retried, "the send was not retried")
                        _ = try await fixture.waitForDeliveries(of: event) { $0.first { $0.channel == "sms" }?.status == "sent" }
                        let calls = sms.received.filter { $0.body["reference"] == reference }
                        #expect(calls.count == 2, "\(calls.count) calls")
                        #expect(Set(calls.map(\.idempotencyKey)) == [reference])
                        let attempts = try await fixture.database.rows(
                            "SELECT attempt, outcome FROM delivery_attempts WHERE delivery_id = \(delivery.id) ORDER BY id",
                            logger: TestEnvironment.logger
                        ).map { try $0.decode((Int, String).self) }
                        #expect(attempts.count == 2 && attempts.allSatisfy { $0.1 == "accepted" }, "\(attempts)")
                    }
                }
            }
        }
    }
}
