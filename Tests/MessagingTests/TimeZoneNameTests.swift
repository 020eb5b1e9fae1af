import AftercareContracts
import Foundation
import Testing

/// Time zone names from requests, events and rows: IANA names and UTC only. Foundation's
/// `TimeZone(identifier:)` stops the process on some malformed GMT offsets, and PostgreSQL
/// reads offset names differently, so they are refused first.
@Suite("Time zone names from outside", .timeLimit(.minutes(1)))
struct TimeZoneNameTests {
    @Test(
        "offset names, on which Foundation traps or which PostgreSQL reads another way, are refused",
        arguments: ["GMT+01:!0", "UTC+01:z0", "GMT-00:_5", "GMT+01:é0", "GMT+1.234", "GMT+8", "UTC-0530", "GMT+05:30"]
    )
    func offsetNames(_ name: String) {
        #expect(TimeZone(checking: name) == nil)
    }

    @Test("IANA names and UTC are read as Foundation reads them; anything else is refused")
    func ianaNames() {
        #expect(TimeZone(checking: "Asia/Shanghai")?.identifier == "Asia/Shanghai")
        #expect(TimeZone(checking: "Europe/Berlin")?.identifier == "Europe/Berlin")
        #expect(TimeZone(checking: "UTC")?.secondsFromGMT() == 0)
        #expect(TimeZone(checking: "GMT")?.secondsFromGMT() == 0)
        #expect(TimeZone(checking: "Mars/Olympus") == nil)
        #expect(TimeZone(checking: "asia/shanghai") == nil)
        #expect(TimeZone(checking: "") == nil)
    }
}
