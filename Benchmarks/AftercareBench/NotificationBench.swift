import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Staff alerts under load, against the real `NotificationService` executable on a fresh
/// database and the test broker, with a local HTTP server standing in for the SMS gateway
/// and the official-account API:
/// - `feedback.callback.created` events published at a steady `rate` for `seconds`; for each
///   the time from publishing to the gateway receiving its request (p50/p99 per channel);
/// - then `burst` events at once: deliveries per second until every one was handed over.
struct NotificationBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notification",
        abstract: "Event → gateway p50/p99 for staff alerts under steady load; deliveries/s."
    )

    @Option(help: "Staff alerts per second during the steady phase.") var rate = 50
    @Option(help: "Seconds the steady phase lasts.") var seconds = 30
    @Option(help: "Alerts published at once for the throughput phase.") var burst = 3_000
    @Option(help: "Guides the alerts are spread over.") var staff = 50
    @Option(help: "Path of the NotificationService executable (release build).") var service: String

    func run() async throws {
        let gateway = BenchGateway()
        try await gateway.running {
            try await Bench.withDatabaseURL { client, url in
                let port = 18_084
                let process = try Bench.startService(
                    service,
                    url: url,
                    port: port,
                    secret: UUID().uuidString + UUID().uuidString,
                    extra: [
                        "NOTIFICATION_SMS_URL": gateway.baseURL + "/sms", "NOTIFICATION_OA_URL": gateway.baseURL + "/oa", "DATABASE_POOL_SIZE": "20",
                    ]
                )
                defer { Bench.stop(process) }
                try await Bench.waitUntilReady(HTTPClient.shared, "http://127.0.0.1:\(port)")
                try await client.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO staff (staff_id, role, dealer_id, store_id, phone, name)
                            SELECT 'bench-g-' || n, 'guide', 'bench-d', 'bench-s', '+861370000' || lpad(n::text, 4, '0'), 'Guide ' || n FROM generate_series(0, \(staff - 1)) AS n
                            """
                    ),
                    logger: Bench.logger
                )
                let broker = try AMQPSettings(url: try Bench.environment("AFTERCARE_TEST_AMQP_URL"))
                let publisher = AMQPPublisher(settings: broker, name: "bench-feedback", logger: Bench.logger)
                publisher.start()
                try await Bench.waitFor("the bench publisher", timeout: .seconds(10)) { publisher.isConnected }

                var startKiB = Bench.residentKiB(process.processIdentifier)
                var peakKiB = startKiB
                // 1. Steady load: one alert every 1/rate seconds, each timed to its gateway requests.
                let published = Mutex<[UUID: Date]>([:])
                let steady = rate * seconds
                let began = ContinuousClock.now
                for index in 0..<steady {
                    try await ContinuousClock().sleep(until: began + .seconds(Double(index) / Double(rate)))
                    let event = try alert(index)
                    published.withLock { $0[event.id] = Date() }
                    _ = try await publisher.publish(event.message)
                    if index % rate == 0 { peakKiB = max(peakKiB, Bench.residentKiB(process.processIdentifier)) }
                }
                try await Bench.waitFor("the steady phase's gateway requests", timeout: .seconds(120)) { gateway.count >= 2 * steady }
                let latencies = try await latencies(client, gateway: gateway, published: published.withLock { $0 })

                // 2. Throughput: `burst` alerts at once; deliveries (SMS, official account, inbox) per second.
                let sentBefore = try await Bench.count(client, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
                let burstStart = ContinuousClock.now
                for index in steady..<(steady + burst) { _ = try await publisher.publish(try alert(index).message) }
                try await Bench.waitFor("the burst's deliveries", timeout: .seconds(600)) {
                    peakKiB = max(peakKiB, Bench.residentKiB(process.processIdentifier))
                    return try await Bench.count(client, "SELECT count(*) FROM deliveries WHERE status = 'sent'") >= sentBefore + 3 * burst
                }
                let burstTime = ContinuousClock.now - burstStart
                let endKiB = Bench.residentKiB(process.processIdentifier)
                if startKiB == 0 { startKiB = endKiB }
                Bench.printTable(
                    "notification: \(steady) staff alerts at \(rate)/s, then \(burst) at once (3 deliveries each)",
                    [
                        ("event → SMS gateway request p50", Bench.percentile(latencies.sms, 50)),
                        ("event → SMS gateway request p99", Bench.percentile(latencies.sms, 99)),
                        ("event → official-account request p50", Bench.percentile(latencies.oa, 50)),
                        ("event → official-account request p99", Bench.percentile(latencies.oa, 99)),
                        ("deliveries handed over (burst)", Bench.perSecond(3 * burst, burstTime) + " /s"),
                        ("service RSS start / peak / end (MiB)", "\(startKiB / 1024) / \(peakKiB / 1024) / \(endKiB / 1024)"),
                    ]
                )
                await publisher.shutdown()
            }
        }
    }

    /// A callback task for guide `index % staff`, as feedback's relay would publish it.
    func alert(_ index: Int) throws -> (id: UUID, message: AMQPOutgoingMessage) {
        let task = CallbackCreated(
            taskId: UUID(),
            complaintId: UUID(),
            memberId: "bench-m-\(index)",
            storeId: "bench-s",
            dealerId: "bench-d",
            level: .guide,
            assigneeId: "bench-g-\(index % staff)",
            dueAt: Date().addingTimeInterval(300),
            category: "product_quality",
            severity: "high"
        )
        let metadata = EventMetadata(
            eventID: UUID(),
            type: CallbackCreated.eventType,
            schemaVersion: 1,
            occurredAt: Date(),
            producer: "feedback",
            correlationID: UUID(),
            causationID: nil,
            aggregateID: task.complaintId.uuidString,
            aggregateSequence: 1
        )
        let body = try EventCoding.encoder().encode(EventEnvelope(metadata: metadata, payload: task))
        return (
            metadata.eventID,
            AMQPOutgoingMessage(
                exchange: EventBus.exchange,
                routingKey: CallbackCreated.eventType,
                body: Array(body),
                messageID: metadata.eventID.uuidString.lowercased(),
                type: CallbackCreated.eventType,
                headers: [EventHeader.aggregateID: .string(metadata.aggregateID)]
            )
        )
    }

    /// Publish → gateway arrival for each request, joined through the delivery id the
    /// service sends as `reference`.
    func latencies(_ client: PostgresClient, gateway: BenchGateway, published: [UUID: Date]) async throws -> (sms: [Duration], oa: [Duration]) {
        var eventOf: [String: UUID] = [:]
        for try await (delivery, event) in try await client.query("SELECT lower(id::text), event_id FROM deliveries", logger: Bench.logger).decode(
            (String, UUID).self
        ) {
            eventOf[delivery] = event
        }
        var sms: [Duration] = []
        var oa: [Duration] = []
        for arrival in gateway.arrivals {
            guard let event = eventOf[arrival.reference], let sent = published[event] else { continue }
            let latency = Bench.duration(arrival.at.timeIntervalSince(sent))
            if arrival.channel == "sms" { sms.append(latency) } else { oa.append(latency) }
        }
        return (sms.sorted(), oa.sorted())
    }
}

/// The stand-in SMS gateway and official-account API: answers 200 at once and notes when
/// each request arrived.
final class BenchGateway: Sendable {
    struct Arrival: Sendable {
        let channel: String
        let reference: String
        let at: Date
    }

    private let log = Mutex<[Arrival]>([])
    private let port = Mutex<Int?>(nil)

    var arrivals: [Arrival] { log.withLock { $0 } }
    var count: Int { log.withLock { $0.count } }
    var baseURL: String { "http://127.0.0.1:\(port.withLock { $0 } ?? 0)" }

    private struct Body: Decodable { let reference: String }

    func running(_ body: @Sendable () async throws -> Void) async throws {
        let router = Router()
        for channel in ["sms", "oa"] {
            router.post("/\(channel)/messages") { request, _ -> Response in
                let at = Date()
                var request = request
                let data = try await request.collectBody(upTo: 1 << 16)
                if let reference = try? JSONDecoder().decode(Body.self, from: Data(buffer: data)).reference {
                    self.log.withLock { $0.append(Arrival(channel: channel, reference: reference, at: at)) }
                }
                return Response(
                    status: .ok,
                    headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"messageId": "bench"}"#))
                )
            }
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in self.port.withLock { $0 = channel.localAddress?.port } }
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: Bench.logger))
        let server = Task { try await group.run() }
        while port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = await server.result
    }
}
