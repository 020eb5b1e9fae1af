import AftercareRuntime
import Foundation
import Logging
import Synchronization
import Testing

@Suite("Logs carry no phone numbers or tokens", .timeLimit(.minutes(1)))
struct LogRedactionTests {
    @Test(
        "phone numbers are masked to their last four digits",
        arguments: [
            ("member 13812345678 registered", "member *******5678 registered"),
            ("call +86 138-1234-5678 now", "call *************5678 now"),
        ]
    )
    func phones(input: String, expected: String) {
        #expect(LogRedaction.redact(input) == expected)
    }

    @Test("short numbers such as ports and counts stay readable")
    func shortNumbers() {
        #expect(LogRedaction.redact("listening on 8081 after 3 attempts") == "listening on 8081 after 3 attempts")
    }

    @Test(
        "dates and timestamps in keys and messages stay readable",
        arguments: [
            "sweep=birthday-today-2026-12-03-p1of4",
            "due at 2026-12-03 08:12:24 (store time)",
            "occurredAt 2026-12-03T08:12:24.123Z",
            "between 2026-12-03 and 2026-12-31",
        ]
    )
    func dates(text: String) {
        #expect(LogRedaction.redact(text) == text)
    }

    @Test(
        "a phone written in groups is masked, a landline with its area code too",
        arguments: [
            ("call 138 0013 8000", "call *********8000"),
            ("office 010-12345678", "office ********5678"),
        ]
    )
    func groupedPhones(input: String, expected: String) {
        #expect(LogRedaction.redact(input) == expected)
    }

    @Test("bearer tokens and JWTs are removed")
    func tokens() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
        #expect(!LogRedaction.redact("Authorization: Bearer \(jwt)").contains("eyJzdWIi"))
        #expect(!LogRedaction.redact("token \(jwt) rejected").contains("eyJzdWIi"))
    }

    @Test("JSON lines are valid JSON with metadata and redacted values")
    func jsonLines() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "membership") { label in
            AftercareLogHandler(label: label, level: .info, format: .json) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "request_id"] = "req-1"
        logger.info("registered \"Li\" 13812345678", metadata: ["phone": "13812345678"])
        logger.debug("below the level")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let object = try #require(JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: String])
        #expect(object["request_id"] == "req-1")
        #expect(object["level"] == "info")
        #expect(object["msg"] == "registered \"Li\" *******5678")
        #expect(object["phone"] == "*******5678")
    }
}
