import AftercareAMQP
import Testing

@Suite("Broker URLs", .timeLimit(.minutes(1)))
struct AMQPSettingsTests {
    @Test("amqp and amqps URLs with their default ports")
    func defaults() throws {
        let plain = try AMQPSettings(url: "amqp://u:p@mq/aftercare")
        #expect(plain.port == 5672)
        #expect(!plain.useTLS)
        #expect(plain.virtualHost == "aftercare")
        let tls = try AMQPSettings(url: "amqps://u:p@mq")
        #expect(tls.port == 5671)
        #expect(tls.useTLS)
        #expect(tls.virtualHost == "/")
    }

    @Test("bad URLs are refused", arguments: ["http://mq", "amqp://", "mq:5672", ""])
    func refused(url: String) {
        #expect(throws: AMQPSettings.Invalid.self) { try AMQPSettings(url: url) }
    }
}
