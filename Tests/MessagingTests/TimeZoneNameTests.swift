import AftercareContracts
import Foundation
import Testing

/// Time zone names from requests, events and rows: Foundation's `TimeZone(identifier:)`
/// stops the process on some malformed GMT offsets, so they are refused first.
@Suite("Time zone names from outside")
struct TimeZoneNameTests {
    @Test(
        "offset names Foundation would trap on are refused, not read",
        arguments: ["GMT+01:!0", "UTC+01:z0", "GMT-00:_5", "GMT+01:é0", "GMT+1.234", "GMT+0!:00", "UTC+:"]
    )
    func malformedOffsets(_ name: String) {
        #expect(TimeZone(checking: name) == nil)
    }

    @Test("IANA names and well-formed offsets are read as Foundation reads them")
    func knownNames() {
        #expect(TimeZone(checking: "Asia/Shanghai")?.identifier == "Asia/Shanghai")
        #expect(TimeZone(checking: "GMT")?.secondsFromGMT() == 0)
        #expect(TimeZone(checking: "UTC")?.secondsFromGMT() == 0)
        #expect(TimeZone(checking: "GMT+8")?.secondsFromGMT() == 8 * 3600)
        #expect(TimeZone(checking: "GMT+05:30")?.secondsFromGMT() == 5 * 3600 + 1800)
        #expect(TimeZone(checking: "UTC-0530")?.secondsFromGMT() == -(5 * 3600 + 1800))
        #expect(TimeZone(checking: "Mars/Olympus") == nil)
        #expect(TimeZone(checking: "") == nil)
        #expect(TimeZone(checking: String(repeating: "A", count: 100)) == nil)
    }
}
