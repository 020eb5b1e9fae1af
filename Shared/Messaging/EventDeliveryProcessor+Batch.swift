import AftercareAMQP
import AftercareContracts
import AftercarePersistence
import Foundation
import Metrics
import PostgresNIO

extension EventDeliveryProcessor {
    /// Handles deliveries that arrived together in one transaction: one inbox statement for
    /// all, each new event's handler in order, one commit. Poison is dead-lettered one by one
    /// as usual. If any handler fails, the whole batch rolls back and is handled one delivery
    /// at a time, so retries and dead letters behave exactly as for single deliveries.
    public func processBatch(_ deliveries: [AMQPDelivery]) async -> [AMQPDisposition] {
        guard deliveries.count > 1 else { return [await process(deliveries[0])] }
        struct Readable: Sendable {
            let index: Int
            let event: EventSubscriptions.Decoded
            var metadata: EventMetadata { event.metadata }
        }
        var readable: [Readable] = []
        var dispositions = [AMQPDisposition?](repeating: nil, count: deliveries.count)
        var seen = Set<UUID>()
        for (index, delivery) in deliveries.enumerated() {
            guard case .success(let event) = read(delivery) else {
                dispositions[index] = await process(delivery)  // poison: the single path says why
                continue
            }
            // The same event twice in one batch: the second is a duplicate delivery.
            guard seen.insert(event.metadata.eventID).inserted else {
                dispositions[index] = .acknowledge
                continue
            }
            readable.append(Readable(index: index, event: event))
        }
        do {
            let consumer = service
            let logger = self.logger
            let events = readable
            let applied = try await database.transaction(logger: logger) { connection in
                let fresh = try await Inbox.claim(consumer: consumer, events: events.map(\.metadata), on: connection, logger: logger)
                for event in events where fresh.contains(event.metadata.eventID) {
                    try await event.event.handle(connection)
                }
                return fresh
            }
            for event in readable {
                dispositions[event.index] = .acknowledge
                count(event.metadata.type, applied.contains(event.metadata.eventID) ? .handled : .duplicate)
            }
        } catch  where DatabaseFault.isUnavailable(error) {
            // The database is not answering: one delivery at a time would wait out the
            // deadline once per delivery. Each goes to its retry queue instead.
            for event in readable { dispositions[event.index] = await retry(deliveries[event.index], error: error, logger: logger) }
        } catch {
            for event in readable { dispositions[event.index] = await process(deliveries[event.index]) }
        }
        return dispositions.map { $0 ?? .requeue }
    }
}
