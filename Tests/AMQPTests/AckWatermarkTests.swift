import Foundation
import Testing

@testable import AftercareAMQP

@Suite("Acknowledging settled deliveries up to the oldest unsettled one", .timeLimit(.minutes(1)))
struct AckWatermarkTests {
    @Test("acks the run of settled deliveries from the oldest, with the highest acknowledged tag")
    func runs() {
        let watermark = AckWatermark()
        for tag in UInt64(1)...8 { watermark.delivered(tag, generation: 1) }
        // A later lane finishes first: nothing can be acked past the unsettled 1.
        #expect(watermark.settle([(3, true), (4, true)], generation: 1) == nil)
        #expect(watermark.settle([(1, true), (2, true)], generation: 1) == 4)
        // A rejected delivery ends a run without being acked itself.
        #expect(watermark.settle([(5, true), (6, false)], generation: 1) == 5)
        #expect(watermark.settle([(7, false)], generation: 1) == nil)
        #expect(watermark.settle([(8, true)], generation: 1) == 8)
    }

    @Test("a new connection's tags start afresh; the old one's settlements are ignored")
    func generations() {
        let watermark = AckWatermark()
        for tag in UInt64(1)...3 { watermark.delivered(tag, generation: 1) }
        #expect(watermark.settle([(2, true)], generation: 1) == nil)
        watermark.delivered(1, generation: 2)
        #expect(watermark.settle([(1, true)], generation: 1) == nil)
        #expect(watermark.settle([(1, true)], generation: 2) == 1)
    }

    @Test("keeps up over many deliveries settled in shuffled batches")
    func many() {
        let watermark = AckWatermark()
        let count: UInt64 = 10_000
        for tag in 1...count { watermark.delivered(tag, generation: 1) }
        var highest: UInt64 = 0
        for batch in Array(1...count).chunked(500).shuffled() {
            if let tag = watermark.settle(batch.map { ($0, true) }, generation: 1) {
                #expect(tag > highest)
                highest = tag
            }
        }
        #expect(highest == count)
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
