import AftercareMessaging
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Synchronization
import Testing

extension Outages {
    /// PostgreSQL ends the services' connections (as a failover, a pooler restart or
    /// `pg_terminate_backend` does) and restarts, under a steady stream of events and
    /// requests: nothing is lost or applied twice, the consumer keeps going by itself, and
    /// every request is answered within its deadline.
    @Suite("Database faults", .timeLimit(.minutes(3)))
    struct DatabaseFaultTests {
        /// Ends every backend of `database` but those in `spared`; returns how many.
        static func terminateBackends(of database: String, sparing spared: [Int32], admin: PostgresClient) async throws -> Int {
            let rows = try await admin.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database) AND pid <> ALL(\(spared))",
                logger: TestEnvironment.logger
            ).collect()
            return rows.count
        }

        /// Restarts the test PostgreSQL with the script `scripts/run-tests` names.
        static func restartDatabase() async throws -> Int32? {
            let control = Process()
            control.executableURL = URL(fileURLWithPath: try TestEnvironment.variable("AFTERCARE_TEST_DATABASE_CTL"))
            control.arguments = ["restart"]
            try control.run()
            return await control.exitStatus(within: .seconds(120))
        }

        /// A connection of the test's own, outside the pool whose connections are ended: it
        /// records the events, so each one is committed exactly once.
        static func emitter(for database: TestDatabase) async throws -> (PostgresConnection, Int32) {
            let connection = try await makeConnection(url: database.url)
            let pid = try await connection.query("SELECT pg_backend_pid()", logger: TestEnvironment.logger).collect().first?.decode(Int32.self) ?? 0
            return (connection, pid)
        }

        static func emit(_ range: Range<Int>, on connection: PostgresConnection, outbox: Outbox) async throws -> [UUID] {
            try await connection.withTransaction(logger: TestEnvironment.logger) { connection in
                var ids: [UUID] = []
                for n in range { ids.append(try await outbox.record(Probe(n: n), aggregateID: "a-\(n % 10)", on: connection).eventID) }
                return ids
            }
        }

        @Test(
            "the relay's and consumer's connections ended every 300 ms under a steady stream: each event applies once, and the consumer never needs a restart"
        )
        func terminatedBackends() async throws {
            try await MessagingHarness.with(consumerIdleInTransaction: .seconds(10)) { harness in
                let database = try #require(harness.database)
                let (emitter, emitterPID) = try await Self.emitter(for: database)
                defer { Task { try? await emitter.close() } }
                try await withRunningClient(try makeClient(url: try TestEnvironment.adminDatabaseURL())) { admin in
                    let total = 600
                    let streamEnded = Mutex<ContinuousClock.Instant?>(nil)
                    let stream = Task { @Sendable () -> [UUID] in
                        var ids: [UUID] = []
                        for round in 0..<30 {
                            ids += try await Self.emit((round * 20)..<((round + 1) * 20), on: emitter, outbox: harness.outbox)
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        streamEnded.withLock { $0 = .now }
                        return ids
                    }
                    let terminator = Task { () -> Int in
                        var ended = 0
                        while streamEnded.withLock({ $0 }) == nil {
                            ended += (try? await Self.terminateBackends(of: database.name, sparing: [emitterPID], admin: admin)) ?? 0
                            try? await Task.sleep(for: .milliseconds(300))
                        }
                        return ended
                    }
                    let consumer = harness.consumer()
                    let caughtUp = Mutex<ContinuousClock.Instant?>(nil)
                    let done = try await running(
                        [harness.relay(), consumer],
                        until: {
                            guard let applied = try? await harness.effects().count, applied == total, (try? await harness.unsentCount()) == 0 else {
                                return false
                            }
                            caughtUp.withLock { $0 = $0 ?? .now }
                            return true
                        },
                        timeout: .seconds(120)
                    )
                    let ended = await terminator.value
                    let ids = try await stream.value
                    let effects = try await harness.effects()
                    #expect(done, "applied \(effects.count) of \(total)")
                    #expect(ended >= 10, "only \(ended) backends were ended")
                    #expect(Set(effects.keys) == Set(ids), "lost: \(Set(ids).subtracting(effects.keys).count)")
                    #expect(effects.values.allSatisfy { $0 == 1 }, "applied twice: \(effects.filter { $0.value > 1 }.count)")
                    #expect(try await harness.inboxCount() == total)
                    #expect(consumer.restarts == 0, "the consumer needed \(consumer.restarts) restarts")
                    if let end = streamEnded.withLock({ $0 }), let caught = caughtUp.withLock({ $0 }) {
                        print("terminated backends: \(ended) ended; caught up \(caught - end) after the stream ended")
                    }
                }
            }
        }

        @Test("PostgreSQL restarted mid-stream: each event applies once, and the consumer goes on without a restart")
        func databaseRestart() async throws {
            try await MessagingHarness.with(consumerIdleInTransaction: .seconds(10)) { harness in
                let consumer = harness.consumer()
                let ids = Mutex(try await harness.emit(200, perTransaction: 20))
                let restarted = Mutex<ContinuousClock.Instant?>(nil)
                let done = try await running(
                    [harness.relay(), consumer],
                    until: {
                        guard let applied = try? await harness.effects().count else { return false }
                        if applied >= 100, restarted.withLock({ $0 }) == nil {
                            let status = try await Self.restartDatabase()
                            #expect(status == 0)
                            restarted.withLock { $0 = .now }
                            // After the restart the pool reconnects; the events are recorded once it has.
                            let more = Mutex<[UUID]?>(nil)
                            try await waitUntil("200 more events recorded after the restart", timeout: .seconds(30)) {
                                let recorded = try? await harness.emit(200, perTransaction: 20)
                                more.withLock { $0 = recorded }
                                return recorded != nil
                            }
                            ids.withLock { $0 += more.withLock { $0 } ?? [] }
                        }
                        guard applied == 400 else { return false }
                        return (try? await harness.unsentCount()) == 0
                    },
                    timeout: .seconds(120)
                )
                let effects = try await harness.effects()
                let emitted = ids.withLock { $0 }
                #expect(done, "applied \(effects.count) of 400")
                #expect(Set(effects.keys) == Set(emitted) && emitted.count == 400)
                #expect(effects.values.allSatisfy { $0 == 1 })
                #expect(consumer.restarts == 0)
                if let restart = restarted.withLock({ $0 }) {
                    print("database restart: caught up \(ContinuousClock.now - restart) after it was back")
                }
            }
        }

        @Test("requests while PostgreSQL ends the service's connections are each answered within the database deadline, 200 or 503 with Retry-After")
        func requestsDuringTerminations() async throws {
            try await TestDatabase.with { database in
                let configuration = try TestEnvironment.configuration(databaseURL: database.url, extra: ["DATABASE_TIMEOUT_SECONDS": "3"])
                let platform = await ServicePlatform(
                    configuration: configuration,
                    migrations: PlatformSchema.migrations,
                    logger: TestEnvironment.logger
                )
                let router = platform.makeRouter()
                platform.api(router).group("work").add(middleware: RoleGate(.guide)).get { _, _ -> String in
                    try await platform.database.transaction(logger: platform.logger) { connection in
                        try await connection.query("SELECT pg_sleep(0.05)", logger: platform.logger)
                        return "done"
                    }
                }
                let token = try await platform.tokens.sign(subject: "g-1", role: .guide)
                try await withRunningClient(try makeClient(url: try TestEnvironment.adminDatabaseURL())) { admin in
                    try await platform.makeApplication(router: router).test(.live) { client in
                        #expect(await eventually { (try? await client.execute(uri: "/health/ready", method: .get) { $0.status }) == .ok })
                        let stop = Atomic<Bool>(false)
                        let terminator = Task {
                            while !stop.load(ordering: .relaxed) {
                                _ = try? await Self.terminateBackends(of: database.name, sparing: [], admin: admin)
                                try? await Task.sleep(for: .milliseconds(200))
                            }
                        }
                        var answers: [(status: HTTPResponse.Status, took: Duration, retryAfter: String?)] = []
                        for _ in 0..<60 {
                            let started = ContinuousClock.now
                            let answer = try await client.execute(uri: "/api/v1/work", method: .get, headers: .bearer(token)) {
                                ($0.status, $0.headers[.retryAfter])
                            }
                            answers.append((answer.0, ContinuousClock.now - started, answer.1))
                        }
                        stop.store(true, ordering: .relaxed)
                        await terminator.value
                        let slowest = answers.map(\.took).max() ?? .zero
                        #expect(slowest < .seconds(5), "a request took \(slowest)")
                        #expect(
                            answers.allSatisfy { $0.status == .ok || ($0.status == .serviceUnavailable && $0.retryAfter == "5") },
                            "\(answers.map(\.status.code))"
                        )
                        #expect(answers.contains { $0.status == .ok })
                        print(
                            "requests during terminations: \(answers.filter { $0.status == .ok }.count) answered 200, "
                                + "\(answers.filter { $0.status == .serviceUnavailable }.count) 503, slowest \(slowest)"
                        )
                    }
                }
            }
        }
    }
}
