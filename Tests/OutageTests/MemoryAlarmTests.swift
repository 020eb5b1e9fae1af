import AftercareAMQP
import AftercareMessaging
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

extension Outages {
    /// A broker resource alarm blocks publishing: the service says so (readiness, the
    /// `aftercare_amqp_blocked` metric, the operations endpoint, which still answers), and
    /// once the alarm clears it is ready again and what waited is published.
    @Suite("Broker memory alarm", .timeLimit(.minutes(4)))
    struct MemoryAlarmTests {
        static func memoryAlarm(_ state: String) async throws -> Int32? {
            let control = Process()
            control.executableURL = URL(fileURLWithPath: try TestEnvironment.variable("AFTERCARE_TEST_BROKER_CTL"))
            control.arguments = ["memory-alarm", state]
            try control.run()
            return await control.exitStatus(within: .seconds(60))
        }

        @Test(
            "while the broker blocks publishing, readiness and the metric say so and the operations endpoint answers; afterwards the event goes out"
        )
        func blocked() async throws {
            try await TestDatabase.with { database in
                let configuration = try TestEnvironment.configuration(databaseURL: database.url)
                let platform = await ServicePlatform(
                    configuration: configuration,
                    migrations: PlatformSchema.migrations,
                    logger: TestEnvironment.logger
                )
                let app = platform.makeApplication(router: platform.makeRouter())
                let ops = try await platform.tokens.sign(subject: "ops-1", role: .hqAdmin)
                try await app.test(.live) { client in try await Self.exercise(client, platform: platform, ops: ops) }
            }
        }

        static func ready(_ client: any TestClientProtocol) async -> Bool {
            (try? await client.execute(uri: "/health/ready", method: .get) { $0.status }) == .ok
        }

        static func exercise(_ client: any TestClientProtocol, platform: ServicePlatform, ops: String) async throws {
            #expect(await eventually { await ready(client) })
            #expect(try await memoryAlarm("on") == 0)
            let outcome: Result<Void, any Error>
            do {
                try await duringAlarm(client, platform: platform, ops: ops)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            #expect(try await memoryAlarm("off") == 0)
            try outcome.get()
            #expect(await eventually(timeout: .seconds(60)) { await ready(client) })
            #expect(!platform.publisher.isBlocked)
            let database = platform.database
            let sent = await eventually(timeout: .seconds(30)) {
                let rows = try? await database.rows("SELECT count(*) FROM outbox_pending", logger: TestEnvironment.logger)
                return (try? rows?.first?.decode(Int.self)) == 0
            }
            #expect(sent, "the event recorded during the alarm was not published afterwards")
        }

        static func duringAlarm(_ client: any TestClientProtocol, platform: ServicePlatform, ops: String) async throws {
            // Publishing is what the broker blocks: record an event for the relay.
            let outbox = platform.outbox
            try await platform.database.transaction(logger: TestEnvironment.logger) { connection in
                _ = try await outbox.record(Probe(n: 1), aggregateID: "alarm", on: connection)
            }
            let reported = await eventually(timeout: .seconds(20)) { platform.publisher.isBlocked }
            #expect(reported, "the publisher never heard it was blocked")
            let ready = try await client.execute(uri: "/health/ready", method: .get) { ($0.status, $0.text) }
            #expect(ready.0 == .serviceUnavailable && ready.1.contains("\"broker\":\"down\""), "\(ready)")
            let metrics = try await client.execute(uri: "/metrics", method: .get) { $0.text }
            let gauge = "aftercare_amqp_blocked{connection=\"\(platform.configuration.service.name)-publisher\"} 1"
            #expect(metrics.contains(gauge), "\(metrics.prefix(3000))")
            let started = ContinuousClock.now
            let status = try await client.execute(uri: "/api/v1/ops/messaging", method: .get, headers: .bearer(ops)) { ($0.status, $0.text) }
            #expect(status.0 == .ok && status.1.contains("\"brokerBlocked\":true"), "\(status)")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }
}
