/// Which acknowledgement to send for a consumer's settled deliveries: one `basic.ack` with
/// `multiple` for the longest run of settled deliveries from the oldest outstanding one,
/// instead of a frame per delivery. Lanes settle out of order, so a settled delivery waits
/// here until every older one is settled too (at most the time a lane's batch takes); a
/// delivery set aside with `basic.reject` is settled for this purpose (the broker forgets
/// it at once).
///
/// An ack frame per delivery was a system call each on the consumer's side and a command
/// each for the queue on the broker's. Should the connection close with acks still held
/// here, the broker redelivers those deliveries and the consumer's inbox makes the repeat
/// harmless, as after any lost ack.
///
/// Used only on the connection's own thread (`AMQPWorker`), hence `@unchecked Sendable`.
final class AckWatermark: @unchecked Sendable {
    private var generation = -1
    /// Delivered tags not yet covered by an ack, oldest first, from `head` on.
    private var outstanding: [UInt64] = []
    private var head = 0
    /// Settled tags not yet at the front: true for an acknowledgement, false for a reject.
    private var settled: [UInt64: Bool] = [:]

    /// A delivery arrived (in tag order, as the broker numbers them on a channel).
    func delivered(_ tag: UInt64, generation: Int) {
        if generation != self.generation {
            // A new connection: the old tags are void.
            self.generation = generation
            outstanding.removeAll(keepingCapacity: true)
            head = 0
            settled.removeAll(keepingCapacity: true)
        }
        outstanding.append(tag)
    }

    /// Records settled deliveries; returns the tag to acknowledge with `multiple`, when the
    /// oldest outstanding deliveries are now settled and at least one of them is to be acked.
    func settle(_ tags: [(tag: UInt64, acknowledge: Bool)], generation: Int) -> UInt64? {
        guard generation == self.generation else { return nil }
        for (tag, acknowledge) in tags { settled[tag] = acknowledge }
        var highest: UInt64?
        while head < outstanding.count, let acknowledge = settled.removeValue(forKey: outstanding[head]) {
            if acknowledge { highest = outstanding[head] }
            head += 1
        }
        if head >= 1024, head * 2 >= outstanding.count {
            outstanding.removeFirst(head)
            head = 0
        }
        return highest
    }
}
