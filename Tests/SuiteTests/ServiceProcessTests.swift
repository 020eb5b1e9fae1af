import AftercareAMQP
import AftercareMessaging
import AftercareTestSupport
import Foundation
import PostgresNIO
import Testing

extension Executables {
    @Suite("The five executables", .serialized, .timeLimit(.minutes(3)))
    struct ServiceProcessTests {
        @Test("each boots, migrates, becomes ready, serves metrics and stops cleanly on SIGTERM")
        func bootAndStop() async throws {
            let processes = try ServiceProcess.all.map { try ServiceProcess(executable: $0.0, service: $0.1, port: try freePort()) }
            for process in processes { try process.start() }
            for process in processes {
                let ready = await eventually(timeout: .seconds(60)) { await process.get("/health/ready")?.status == 200 }
                #expect(ready, "\(process.executable) did not become ready:\n\(process.log)")
                let body = await process.get("/health/ready")?.body ?? ""
                #expect(body.contains("\"database\":\"up\"") && body.contains("\"broker\":\"up\""), "\(process.executable): \(body)")
                let metrics = await process.get("/metrics")
                #expect(metrics?.status == 200)
                #expect(metrics?.body.contains("hb_requests") == true, "\(process.executable) metrics")
                let unknown = await process.get("/api/v1/no-such-route")
                #expect(unknown?.status == 404 && unknown?.body.contains("\"status\":404") == true, "\(process.executable)")
                // Its migrations are recorded in its own database, read with its own credentials.
                let applied = try await withRunningClient(try makeClient(url: process.environment["DATABASE_URL"] ?? "")) { client in
                    try await client.query("SELECT id FROM schema_migrations", logger: TestEnvironment.logger).collect().map {
                        try $0.decode(String.self)
                    }
                }
                #expect(Set(applied).isSuperset(of: PlatformSchema.migrations.map(\.id)), "\(process.executable): \(applied)")
            }
            for process in processes {
                let status = await process.terminate()
                #expect(status == 0, "\(process.executable) exit status \(String(describing: status)):\n\(process.log)")
                #expect(process.log.contains("\"msg\":\"Server started and listening on 127.0.0.1:\(process.port)\""), "\(process.executable) log")
            }
            try await Self.deleteQueues(of: ServiceProcess.all.map(\.1))
        }

        /// The real services declare their real queues on the test broker; removed after each
        /// test, or every later test and benchmark would copy events into them.
        static func deleteQueues(of services: [String]) async throws {
            await deleteServiceQueues(of: services, broker: try AMQPSettings(url: try TestEnvironment.amqpURL()))
        }

        @Test("a second start finds the schema current and applies nothing")
        func restartIsIdempotent() async throws {
            let first = try ServiceProcess(executable: "CouponService", service: "coupon", port: try freePort())
            try first.start()
            #expect(await eventually(timeout: .seconds(60)) { await first.get("/health/ready")?.status == 200 }, "\(first.log)")
            #expect(await first.terminate() == 0)
            let second = try ServiceProcess(executable: "CouponService", service: "coupon", port: try freePort())
            try second.start()
            #expect(await eventually(timeout: .seconds(60)) { await second.get("/health/ready")?.status == 200 }, "\(second.log)")
            #expect(await second.terminate() == 0)
            #expect(!second.log.contains("applied migration"), "\(second.log)")
            try await Self.deleteQueues(of: ["coupon"])
        }

        @Test(
            "a bad variable stops start-up with a message naming it",
            arguments: [
                ("HTTP_PORT", "not-a-port"), ("JWT_SECRET", "too-short"), ("DATABASE_URL", "mysql://nope"),
            ]
        )
        func configurationError(variable: String, value: String) async throws {
            let process = try ServiceProcess(executable: "FeedbackService", service: "feedback", port: try freePort(), overrides: [variable: value])
            try process.start()
            let status = await process.waitForExit(timeout: .seconds(20))
            #expect(status == 78)
            #expect(process.log.contains("configuration error: \(variable):"), "\(process.log)")
            #expect(!process.log.contains("too-short"))
        }

        @Test("a service whose database cannot be reached exits with status 1 and the reason instead of waiting unready")
        func databaseUnreachable() async throws {
            let process = try ServiceProcess(
                executable: "CouponService",
                service: "coupon",
                port: try freePort(),
                overrides: [
                    "DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:1/nothing", "DATABASE_STARTUP_TIMEOUT_SECONDS": "2",
                ]
            )
            try process.start()
            let status = await process.waitForExit(timeout: .seconds(30))
            #expect(status == 1, "\(process.log)")
            #expect(
                process.log.contains("the service stopped on an error") && process.log.contains("DATABASE_STARTUP_TIMEOUT_SECONDS"),
                "\(process.log)"
            )
            #expect(!process.log.contains("nothing@"), "the password is not logged")
        }
    }
}
