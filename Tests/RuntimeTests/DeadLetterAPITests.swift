import AftercareAMQP
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Dead letters over HTTP", .timeLimit(.minutes(3)))
struct DeadLetterAPITests {
    struct Listing: Decodable {
        let queue: String
        let count: Int
        let items: [DeadLetters.Entry]
    }

    @Test("operators list dead letters with their reasons and replay them; other roles may not")
    func listAndReplay() async throws {
        try await TestDatabase.with { database in
            let configuration = try TestEnvironment.configuration(
                service: ServiceIdentity(name: "dl" + UUID().uuidString.lowercased().prefix(6).lowercased(), defaultHTTPPort: 0),
                databaseURL: database.url
            )
            var subscriptions = EventSubscriptions()
            subscriptions.on(Probe.self) { _, _ in }
            let platform = await ServicePlatform(
                configuration: configuration,
                migrations: PlatformSchema.migrations,
                subscriptions: subscriptions,
                logger: TestEnvironment.logger
            )
            let app = platform.makeApplication(router: platform.makeRouter())
            let service = configuration.service.name
            try await app.test(.live) { client in
                try await waitUntil("publisher and consumer connected") { platform.publisher.isConnected && platform.consumer?.isConnected == true }
                // A poison message: the consumer dead-letters it with the reason.
                _ = try await platform.publisher.publish(AMQPOutgoingMessageFactory.raw("not json", service: service, type: Probe.eventType))
                let deadLetters = DeadLetters(service: service, publisher: platform.publisher)
                #expect(try await eventually { try await deadLetters.count() == 1 })

                let ops = try await platform.tokens.sign(subject: "ops-1", role: .hqAdmin)
                try await client.execute(uri: "/api/v1/ops/dead-letters?limit=10", method: .get, headers: .bearer(ops)) { response in
                    #expect(response.status == .ok)
                    let listing = try JSONDecoder().decode(Listing.self, from: Data(buffer: response.body))
                    #expect(listing.queue == "\(service).dead-letter")
                    #expect(listing.items.first?.reason?.contains("not JSON") == true)
                    #expect(listing.items.first?.body == "not json")
                }
                let guide = try await platform.tokens.sign(subject: "g-1", role: .guide)
                try await client.execute(uri: "/api/v1/ops/dead-letters", method: .get, headers: .bearer(guide)) { response in
                    #expect(response.status == .forbidden)
                }
                try await client.execute(uri: "/api/v1/ops/dead-letters?limit=9999", method: .get, headers: .bearer(ops)) { response in
                    #expect(response.status == .unprocessableContent)
                }
                try await client.execute(
                    uri: "/api/v1/ops/dead-letters/replay",
                    method: .post,
                    headers: .bearer(ops),
                    body: ByteBuffer(string: #"{"limit": 0}"#)
                ) { response in
                    let problem = try response.problem()
                    #expect(problem.errors?.map(\.field) == ["limit"])
                }
                try await client.execute(
                    uri: "/api/v1/ops/dead-letters/replay",
                    method: .post,
                    headers: .bearer(ops),
                    body: ByteBuffer(string: #"{"limit": 10}"#)
                ) { response in
                    #expect(response.status == .ok)
                    #expect(response.text == #"{"replayed":1}"#)
                }
                // Still poison: replayed, read again, dead-lettered again.
                #expect(try await eventually { try await deadLetters.count() == 1 })
            }
            // The platform's own publisher stopped with the application: clean up with another.
            await deleteServiceQueues(of: [service], broker: configuration.broker)
        }
    }
}

@Suite("Messaging status for operators", .timeLimit(.minutes(3)))
struct MessagingStatusTests {
    struct Status: Decodable {
        struct Outbox: Decodable {
            let unsent: Int
            let oldestUnsentSeconds: Double?
        }
        struct Jobs: Decodable {
            let pending: Int
            let overdue: Int
        }
        let brokerConnected: Bool
        let outbox: Outbox
        let jobs: Jobs
        let deadLetters: Int?
    }

    @Test("reports unsent events, pending and overdue timers; operators only")
    func status() async throws {
        try await TestDatabase.with { database in
            let configuration = try TestEnvironment.configuration(databaseURL: database.url)
            let clock = ManualBusinessClock()
            let platform = await ServicePlatform(
                configuration: configuration,
                migrations: PlatformSchema.migrations,
                clock: clock,
                logger: TestEnvironment.logger
            )
            let app = platform.makeApplication(router: platform.makeRouter())
            try await app.test(.live) { client in
                try await waitUntil("the publisher connected") { platform.publisher.isConnected }
                try await platform.database.withTransaction(logger: TestEnvironment.logger) { connection in
                    try await JobScheduler.schedule(
                        kind: "remind",
                        dueAt: clock.now().addingTimeInterval(-60),
                        on: connection,
                        logger: TestEnvironment.logger
                    )
                    try await JobScheduler.schedule(
                        kind: "remind",
                        dueAt: clock.now().addingTimeInterval(3600),
                        on: connection,
                        logger: TestEnvironment.logger
                    )
                }
                let ops = try await platform.tokens.sign(subject: "ops-1", role: .hqAdmin)
                try await client.execute(uri: "/api/v1/ops/messaging", method: .get, headers: .bearer(ops)) { response in
                    #expect(response.status == .ok)
                    let status = try JSONDecoder().decode(Status.self, from: Data(buffer: response.body))
                    #expect(status.brokerConnected)
                    #expect(status.jobs.pending == 2)
                    #expect(status.jobs.overdue == 1)
                    #expect(status.deadLetters == nil)  // this service consumes nothing
                    #expect(status.outbox.unsent >= 0)
                }
                let member = try await platform.tokens.sign(subject: "m-1", role: .member)
                try await client.execute(uri: "/api/v1/ops/messaging", method: .get, headers: .bearer(member)) { response in
                    #expect(response.status == .forbidden)
                }
            }
        }
    }
}
