import AftercareContracts
import ArgumentParser
import Foundation

/// The Swift cost of one event's envelope on the consumer's side, without broker or
/// database: reading the JSON a relay published into a typed envelope, as every delivery is
/// read before its handler runs, with `JSONDecoder` alone and with `EnvelopeReader`.
struct EnvelopeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "envelope", abstract: "Envelope decoding, µs per event.")

    @Option(help: "Envelopes to decode.") var events = 100_000

    func run() async throws {
        let padding = String(repeating: "p", count: 200)
        let bodies = try (0..<1000).map { n in
            let metadata = EventMetadata(
                eventID: UUID(),
                type: BenchEvent.eventType,
                schemaVersion: 1,
                occurredAt: Date(),
                producer: "bench",
                correlationID: UUID(),
                causationID: nil,
                aggregateID: "member-\(n)",
                aggregateSequence: Int64(n + 1)
            )
            return try EventCoding.encoder().encode(EventEnvelope(metadata: metadata, payload: BenchEvent(n: n, padding: padding)))
        }
        let arrays = bodies.map { Array($0) }
        let decoding = try time { try EventCoding.decoder().decode(EventEnvelope<BenchEvent>.self, from: bodies[$0 % bodies.count]).payload.n }
        let reading = try time { try EnvelopeReader.read(BenchEvent.self, from: arrays[$0 % arrays.count]).payload.n }
        Bench.printTable(
            "Envelope decoding (\(bodies[0].count)-byte envelopes, µs per event, \(events) events)",
            [
                ("JSONDecoder, the whole envelope", decoding),
                ("EnvelopeReader: metadata by hand, payload by JSONDecoder", reading),
            ]
        )
    }

    /// Average µs per call of `read` over `events` calls.
    func time(_ read: (Int) throws -> Int) throws -> String {
        var checksum = 0
        let started = ContinuousClock.now
        for index in 0..<events { checksum &+= try read(index) }
        let elapsed = ContinuousClock.now - started
        guard checksum != 0 else { throw ValidationErrorMessage("nothing was decoded") }
        return String(format: "%.2f", (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(events))
    }
}
