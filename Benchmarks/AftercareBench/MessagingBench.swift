import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import ArgumentParser
import Foundation
import PostgresNIO
import Synchronization

struct BenchEvent: EventPayload {
    static let eventType = "bench.event.recorded"
    let n: Int
    let padding: String
}

/// Events per second through outbox → relay → broker → consumer → inbox with durability on,
/// next to the raw limit of the same broker: persistent publishes with confirms and
/// consumes with acks, no database.
struct MessagingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "messaging", abstract: "End-to-end events/s against the raw broker limit.")

    @Option(help: "Messages for the raw broker measurement.") var rawMessages = 50_000
    @Option(help: "Events for the end-to-end measurement.") var events = 50_000
    @Option(help: "Consumer lanes (concurrent handlers).") var lanes = EventConsumer.Settings().lanes
    @Option(help: "Deliveries handled in one consumer transaction, at most.") var maxBatch = EventConsumer.Settings().maxBatch
    @Option(help: "Milliseconds a consumer lane waits to fill a short batch.") var lingerMs = Int(EventConsumer.Settings().linger / .milliseconds(1))
    @Option(help: "Consumer prefetch.") var prefetch = EventConsumer.Settings().prefetch
    @Option(help: "Outbox rows the relay publishes per batch.") var relayBatch = OutboxRelay.Settings().batchSize
    @Option(help: "Rounds of raw pipeline and end-to-end, run in turn; the ratio is the median of the rounds' ratios.")
    var rounds = 3

    func run() async throws {
        let broker = try AMQPSettings(url: try Bench.environment("AFTERCARE_TEST_AMQP_URL"))
        let id = UUID().uuidString.lowercased().prefix(8)
        let (publishRate, consumeRate) = try await raw(broker: broker, queue: "bench.raw.\(id)")
        // Single runs of either measurement differ by a quarter from one minute to the next
        // on this machine, so the ratio compares each end-to-end run with the raw pipeline
        // run just before it, over several rounds.
        var pipelineRates: [Double] = []
        var shapedRates: [Double] = []
        var endToEndRates: [Double] = []
        for round in 0..<max(1, rounds) {
            pipelineRates.append(Double(messagesPerSecond: rawMessages, try await rawPipeline(broker: broker, queue: "bench.pipe.\(id).\(round)")))
            shapedRates.append(
                Double(
                    messagesPerSecond: rawMessages,
                    try await rawPipeline(broker: broker, queue: "bench.shaped.\(id).\(round)", shapedLikeEvents: true)
                )
            )
            let times = try await pipeline(broker: broker, service: "bench\(id)r\(round)", handlerWrites: false, stagesAlone: false)
            endToEndRates.append(Double(messagesPerSecond: events, times.together))
        }
        let ratios = zip(endToEndRates, pipelineRates).map { $0 / $1 }
        let shapedRatios = zip(endToEndRates, shapedRates).map { $0 / $1 }
        let endToEndRows = try await endToEnd(broker: broker, service: "bench\(id)")
        Bench.printTable(
            "Messaging (\(ProcessInfo.processInfo.activeProcessorCount) cores, persistent ~500-byte JSON messages)",
            [
                ("raw publish, confirms per 500 (msg/s)", publishRate),
                ("raw consume, ack each (msg/s)", consumeRate),
                ("raw pipeline, publish + consume at once (msg/s)", Self.spread(pipelineRates)),
                ("end-to-end outbox→inbox, same rounds (events/s)", Self.spread(endToEndRates)),
                ("end-to-end ÷ raw pipeline, by round", Self.spread(ratios.map { $0 * 100 }, unit: " %")),
                ("raw pipeline, events' shape: topic exchange, relay's properties (msg/s)", Self.spread(shapedRates)),
                ("end-to-end ÷ raw pipeline of the events' shape, by round", Self.spread(shapedRatios.map { $0 * 100 }, unit: " %")),
            ] + endToEndRows
        )
    }

    /// "median (min–max, n rounds)".
    static func spread(_ values: [Double], unit: String = "") -> String {
        let sorted = values.sorted()
        guard let low = sorted.first, let high = sorted.last else { return "n/a" }
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return String(format: "%.0f%@ (%.0f–%.0f, %d rounds)", median, unit, low, high, sorted.count)
    }

    static let body = Array(String(repeating: "x", count: 420).utf8)
    static let envelopeSizedBody = Array(String(repeating: "x", count: 490).utf8)
    static let shapedExchange = "bench.events"
    static let correlationID = UUID().uuidString.lowercased()

    /// A quorum queue and a connected publisher for it; `shapedLikeEvents`, the queue is bound
    /// to a topic exchange by the bench event's type, as a service's queue is.
    func rawQueue(broker: AMQPSettings, queue: String, shapedLikeEvents: Bool = false) async throws -> (AMQPTopology, AMQPPublisher) {
        var topology = AMQPTopology(queues: [.init(name: queue, arguments: ["x-queue-type": .string("quorum")])])
        if shapedLikeEvents {
            topology.exchanges = [.init(name: Self.shapedExchange, type: "topic")]
            topology.bindings = [.init(queue: queue, exchange: Self.shapedExchange, routingKey: BenchEvent.eventType)]
        }
        let publisher = AMQPPublisher(settings: broker, name: "bench-\(queue)", topology: topology, logger: Bench.logger)
        publisher.start()
        while !publisher.isConnected { try await Task.sleep(for: .milliseconds(20)) }
        return (topology, publisher)
    }

    /// Publishes `rawMessages` persistent messages, confirmed 500 at a time: to the queue
    /// through the default exchange, or, `shapedLikeEvents`, as the relay publishes events
    /// (through a topic exchange, mandatory, with the relay's properties and an envelope-sized
    /// body, confirmed 1,000 at a time).
    func publishAll(_ publisher: AMQPPublisher, queue: String, shapedLikeEvents: Bool = false) async throws {
        var sent = 0
        let batchSize = shapedLikeEvents ? OutboxRelay.Settings().batchSize : 500
        while sent < rawMessages {
            let batch = (sent..<min(sent + batchSize, rawMessages)).map { n in
                shapedLikeEvents
                    ? AMQPOutgoingMessage(
                        exchange: Self.shapedExchange,
                        routingKey: BenchEvent.eventType,
                        body: Self.envelopeSizedBody,
                        messageID: "\(queue)-\(n)",
                        type: BenchEvent.eventType,
                        correlationID: Self.correlationID,
                        appID: "bench",
                        headers: [EventHeader.aggregateID: .string("member-\(n % 1000)")]
                    )
                    : AMQPOutgoingMessage(exchange: "", routingKey: queue, body: Self.body, messageID: "\(queue)-\(n)", type: "bench.raw")
            }
            _ = try await publisher.publish(batch)
            sent += batch.count
        }
    }

    /// Messages received so far, shared between the consumer and the measuring loop.
    final class Tally: Sendable {
        private let value = Atomic<Int>(0)
        func add() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    func countingConsumer(_ broker: AMQPSettings, queue: String, topology: AMQPTopology, received: Tally) -> AMQPConsumer {
        AMQPConsumer(settings: broker, name: "bench-consumer-\(queue)", queue: queue, prefetch: 500, topology: topology, logger: Bench.logger) { _ in
            received.add()
            return .acknowledge
        }
    }

    func raw(broker: AMQPSettings, queue: String) async throws -> (String, String) {
        let (topology, publisher) = try await rawQueue(broker: broker, queue: queue)
        let start = ContinuousClock.now
        try await publishAll(publisher, queue: queue)
        let publishRate = Bench.perSecond(rawMessages, ContinuousClock.now - start)
        let received = Tally()
        let consumer = countingConsumer(broker, queue: queue, topology: topology, received: received)
        let messages = rawMessages
        let elapsed = try await Bench.measure([consumer]) { received.count >= messages }
        try await publisher.deleteQueue(queue)
        await publisher.shutdown()
        return (publishRate, Bench.perSecond(rawMessages, elapsed))
    }

    /// The broker's limit for what end-to-end does: publishing with confirms while a consumer
    /// acks, at the same time, with no database.
    func rawPipeline(broker: AMQPSettings, queue: String, shapedLikeEvents: Bool = false) async throws -> Duration {
        let (topology, publisher) = try await rawQueue(broker: broker, queue: queue, shapedLikeEvents: shapedLikeEvents)
        let received = Tally()
        let consumer = countingConsumer(broker, queue: queue, topology: topology, received: received)
        let messages = rawMessages
        let published = Atomic<Bool>(false)
        let elapsed = try await Bench.measure([consumer]) {
            // The first check publishes everything while the consumer runs; later checks
            // only watch the count.
            if !published.exchange(true, ordering: .relaxed) { try await publishAll(publisher, queue: queue, shapedLikeEvents: shapedLikeEvents) }
            return received.count >= messages
        }
        try await publisher.deleteQueue(queue)
        await publisher.shutdown()
        return elapsed
    }

    /// Writes `range` of bench events to the outbox, 500 per transaction, over 1,000 aggregates.
    func recordEvents(_ range: Range<Int>, client: PostgresClient, outbox: Outbox) async throws {
        let padding = String(repeating: "p", count: 200)
        for start in stride(from: range.lowerBound, to: range.upperBound, by: 500) {
            let batch = (start..<min(start + 500, range.upperBound)).map { n in
                Outbox.Entry(BenchEvent(n: n, padding: padding), aggregateID: "member-\(n % 1000)")
            }
            try await client.withTransaction(logger: Bench.logger) { connection in
                try await outbox.record(batch: batch, on: connection)
            }
        }
    }

    /// How long each stage took over `events` events.
    struct PipelineTimes {
        let together: Duration, relayAlone: Duration, consumerAlone: Duration
    }

    /// Relay and consumer running together, then each stage alone on a second set of events
    /// (relay: outbox → broker; consumer: broker → inbox), so the slower stage shows itself.
    /// With `handlerWrites` each event's handler also inserts a row of its own, as a service's
    /// handler would; without, the consumer's work is the inbox record alone.
    func pipeline(broker: AMQPSettings, service: String, handlerWrites: Bool, stagesAlone: Bool = true) async throws -> PipelineTimes {
        try await Bench.withDatabase { client in
            try await MigrationRunner(
                migrations: PlatformSchema.migrations + [
                    Migration("bench-effects", "CREATE TABLE effects (event_id uuid NOT NULL, n integer NOT NULL)")
                ],
                logger: Bench.logger
            ).run(on: client)
            let outbox = Outbox(producer: service, logger: Bench.logger)
            try await recordEvents(0..<events, client: client, outbox: outbox)
            // Handler runs are counted in memory so that watching for the end costs the
            // database nothing; the inbox is counted only once they say all may be done.
            let handled = Tally()
            var subscriptions = EventSubscriptions()
            subscriptions.on(BenchEvent.self) { envelope, connection in
                if handlerWrites {
                    try await connection.query(
                        "INSERT INTO effects (event_id, n) VALUES (\(envelope.metadata.eventID), \(envelope.payload.n))",
                        logger: Bench.logger
                    )
                }
                handled.add()
            }
            let inboxHolds = { @Sendable (count: Int) async throws -> Bool in
                guard handled.count >= count else { return false }
                return try await Bench.count(client, "SELECT count(*) FROM inbox") >= count
            }
            let publisher = AMQPPublisher(settings: broker, name: "\(service)-publisher", topology: EventBus.publisherTopology, logger: Bench.logger)
            var settings = EventConsumer.Settings()
            settings.lanes = lanes
            settings.prefetch = prefetch
            settings.maxBatch = maxBatch
            settings.linger = .milliseconds(lingerMs)
            let topology = EventBus.consumerTopology(service: service, eventTypes: subscriptions.eventTypes, retryDelays: settings.retryDelays)
            publisher.start()
            while !publisher.isConnected { try await Task.sleep(for: .milliseconds(20)) }
            try await publisher.declare(topology)
            var relaySettings = OutboxRelay.Settings()
            relaySettings.batchSize = relayBatch
            let makeRelay = { OutboxRelay(database: client, publisher: publisher, producer: service, settings: relaySettings, logger: Bench.logger) }
            let makeConsumer = {
                EventConsumer(
                    service: service,
                    subscriptions: subscriptions,
                    database: client,
                    publisher: publisher,
                    broker: broker,
                    settings: settings,
                    logger: Bench.logger
                )
            }
            let total = events
            let together = try await Bench.measure([makeRelay(), makeConsumer()]) { try await inboxHolds(total) }
            var relayAlone = Duration.zero
            var consumerAlone = Duration.zero
            if stagesAlone {
                try await recordEvents(events..<2 * events, client: client, outbox: outbox)
                relayAlone = try await Bench.measure([makeRelay()]) {
                    try await Bench.count(client, "SELECT count(*) FROM outbox_pending") == 0
                }
                consumerAlone = try await Bench.measure([makeConsumer()]) { try await inboxHolds(2 * total) }
            }
            // Exactly once: every event in the inbox once, and its effect written once.
            let recorded = stagesAlone ? 2 * events : events
            let inbox = try await Bench.count(client, "SELECT count(DISTINCT event_id) FROM inbox")
            let effects = try await Bench.count(client, "SELECT count(*) FROM effects")
            guard inbox == recorded, effects == (handlerWrites ? recorded : 0) else {
                throw ValidationErrorMessage("expected \(recorded) inbox rows and their effects, found \(inbox) and \(effects)")
            }
            for queue in topology.queues.map(\.name) { try? await publisher.deleteQueue(queue) }
            await publisher.shutdown()
            return PipelineTimes(together: together, relayAlone: relayAlone, consumerAlone: consumerAlone)
        }
    }

    func endToEnd(broker: AMQPSettings, service: String) async throws -> [(String, String)] {
        let bare = try await pipeline(broker: broker, service: service, handlerWrites: false)
        let writing = try await pipeline(broker: broker, service: service + "w", handlerWrites: true)
        return [
            ("end-to-end outbox→inbox (events/s)", Bench.perSecond(events, bare.together)),
            ("  relay alone, outbox→broker (events/s)", Bench.perSecond(events, bare.relayAlone)),
            ("  consumer alone, broker→inbox (events/s)", Bench.perSecond(events, bare.consumerAlone)),
            ("end-to-end, handler writes a row (events/s)", Bench.perSecond(events, writing.together)),
            ("  consumer alone, handler writes a row (events/s)", Bench.perSecond(events, writing.consumerAlone)),
        ]
    }
}
