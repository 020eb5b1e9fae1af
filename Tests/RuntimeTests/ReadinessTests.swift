import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

/// The body of a 200 from /health/ready.
struct ReadyBody: Decodable {
    let status: String
    let checks: [String: String]
}

@Suite("Readiness follows the database and the broker", .timeLimit(.minutes(3)))
struct ReadinessTests {
    func ready(_ client: some TestClientProtocol) async throws -> (HTTPResponse.Status, [String: String]) {
        try await client.execute(uri: "/health/ready", method: .get) { response in
            if response.status == .ok {
                let body = try JSONDecoder().decode(ReadyBody.self, from: Data(buffer: response.body))
                #expect(body.status == "ready")
                return (response.status, body.checks)
            }
            return (response.status, try response.problem().checks ?? [:])
        }
    }

    @Test("ready when both answer; not ready once the database is gone")
    func databaseDown() async throws {
        let adminURL = try TestEnvironment.adminDatabaseURL()
        try await TestDatabase.with { database in
            let (app, _) = try await makeRuntimeTestApplication(databaseURL: database.url)
            try await app.test(.router) { client in
                // On a loaded machine one check can miss its 2 s deadline: wait for all four.
                let allUp = ["database": "up", "broker": "up", "consumer": "up", "relay": "up", "timers": "up"]
                let becameReady = try await eventually {
                    let (status, checks) = try await ready(client)
                    return status == .ok && checks == allUp
                }
                let answer = try await ready(client)
                #expect(becameReady, "\(answer)")

                // Take the database away under the running service.
                try await withRunningClient(try makeClient(url: adminURL)) { admin in
                    _ = try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database.name) WITH (FORCE)"), logger: TestEnvironment.logger)
                }
                let (status, checks) = try await ready(client)
                #expect(status == .serviceUnavailable)
                #expect(checks == ["database": "down", "broker": "up", "consumer": "up", "relay": "up", "timers": "up"])
                try await client.execute(uri: "/health/live", method: .get) { #expect($0.status == .ok) }

                // Bring an (empty) database back before the application stops: PostgresNIO
                // 1.33 can keep a shutting-down client retrying a database that is gone
                // (vapor/postgres-nio#599, fixed in a later release than this mirror has),
                // which held this test's teardown for ever in about one full run in three.
                try await withRunningClient(try makeClient(url: adminURL)) { admin in
                    _ = try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database.name)"), logger: TestEnvironment.logger)
                }
                #expect(try await eventually { try await ready(client).1["database"] == "up" })
            }
        }
    }

    @Test("a service that cannot reach its database stops at start-up, saying why, instead of waiting unready")
    func databaseUnreachableAtStart() async throws {
        // Nothing listens on port 1: PostgresNIO would keep the first query waiting for ever.
        let (app, _) = try await makeRuntimeTestApplication(
            databaseURL: "postgres://nobody:nothing@127.0.0.1:1/nothing",
            extra: ["DATABASE_STARTUP_TIMEOUT_SECONDS": "2"]
        )
        let started = ContinuousClock.now
        await #expect {
            try await app.test(.router) { _ in }
        } throws: { error in
            String(describing: error).contains("DATABASE_STARTUP_TIMEOUT_SECONDS")
        }
        // The 2 s limit applied, not the 60 s default.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("not ready while the broker cannot be reached")
    func brokerDown() async throws {
        try await TestDatabase.with { database in
            let (app, _) = try await makeRuntimeTestApplication(
                databaseURL: database.url,
                extra: ["AMQP_URL": "amqp://nobody:nothing@127.0.0.1:1/aftercare"]
            )
            try await app.test(.router) { client in
                // Polled: under a full run's load the database check (2 s budget) can miss once
                // while the fresh database takes its first connections.
                let held = try await eventually {
                    let (status, checks) = try await ready(client)
                    return status == .serviceUnavailable && checks["database"] == "up" && checks["broker"] == "down"
                }
                #expect(held)
                #expect(try await ready(client).1["broker"] == "down")
            }
        }
    }

    @Test("metrics expose request counts per route and the broker connection")
    func metrics() async throws {
        try await TestDatabase.with { database in
            let (app, _) = try await makeRuntimeTestApplication(databaseURL: database.url)
            try await app.test(.router) { client in
                let becameReady = try await eventually { try await ready(client).0 == .ok }
                #expect(becameReady)
                // The relay's last batch is a timestamp, so an alert sees a stall without asking.
                let relayed = try await eventually {
                    let text = try await client.execute(uri: "/metrics", method: .get) { $0.text }
                    return text.contains("aftercare_outbox_last_batch_seconds ")
                }
                #expect(relayed, "no aftercare_outbox_last_batch_seconds")
                let text = try await client.execute(uri: "/metrics", method: .get) { $0.text }
                #expect(text.contains("hb_requests"))
                #expect(text.contains("/health/ready"))
                #expect(text.contains("aftercare_amqp_connected"))
            }
        }
    }
}
