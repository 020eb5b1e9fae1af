import AftercareRuntime
import Testing

@Suite("Configuration from the environment", .timeLimit(.minutes(1)))
struct ConfigurationTests {
    let valid = [
        "DATABASE_URL": "postgres://membership:pw@db.internal:5433/aftercare_membership?sslmode=disable",
        "AMQP_URL": "amqp://membership:pw@mq.internal:5673/aftercare",
        "JWT_SECRET": String(repeating: "k", count: 32),
    ]

    func error(_ environment: [String: String]) -> ConfigurationError? {
        do {
            _ = try ServiceConfiguration(service: .membership, environment: environment)
            return nil
        } catch {
            return error as? ConfigurationError
        }
    }

    @Test("documented defaults apply when only the required variables are set")
    func defaults() throws {
        let configuration = try ServiceConfiguration(service: .feedback, environment: valid)
        #expect(configuration.httpHost == "127.0.0.1")
        #expect(configuration.httpPort == 8085)
        #expect(configuration.maxBodyBytes == 1_048_576)
        #expect(configuration.logLevel == .info)
        #expect(configuration.logFormat == .json)
        #expect(configuration.jwt.issuer == "aftercare")
        #expect(configuration.jwt.audience == "aftercare")
        #expect(configuration.database.host == "db.internal")
        #expect(configuration.database.port == 5433)
        #expect(configuration.database.database == "aftercare_membership")
        #expect(configuration.broker.virtualHost == "aftercare")
        #expect(configuration.broker.port == 5673)
        #expect(configuration.broker.heartbeatSeconds == 10)
    }

    @Test("a terminal gets readable text logs by default")
    func textOnTerminal() throws {
        #expect(try ServiceConfiguration(service: .coupon, environment: valid, standardOutputIsTerminal: true).logFormat == .text)
    }

    @Test("each required variable, when missing, is named", arguments: ["DATABASE_URL", "AMQP_URL", "JWT_SECRET"])
    func missingRequired(variable: String) {
        var environment = valid
        environment[variable] = nil
        #expect(error(environment)?.variable == variable)
        environment[variable] = "   "
        #expect(error(environment)?.variable == variable)
    }

    @Test(
        "a bad value is named, never replaced by the default",
        arguments: [
            ("HTTP_PORT", "eighty"), ("HTTP_PORT", "70000"), ("DATABASE_POOL_SIZE", "0"), ("DATABASE_POOL_SIZE", "1"), ("DATABASE_POOL_SIZE", "3"),
            ("LOG_LEVEL", "loud"), ("LOG_FORMAT", "xml"), ("DATABASE_URL", "mysql://x@y/z"),
            ("DATABASE_URL", "postgres://host-only"), ("AMQP_URL", "http://mq"), ("AMQP_HEARTBEAT_SECONDS", "0"),
            ("JWT_SECRET", "short"), ("HTTP_MAX_BODY_BYTES", "1"), ("DATABASE_URL", "postgres://u@h/db?sslmode=sometimes"),
        ]
    )
    func badValue(variable: String, value: String) {
        var environment = valid
        environment[variable] = value
        let failure = error(environment)
        #expect(failure?.variable == variable)
        #expect(failure?.description.hasPrefix("\(variable): ") == true)
    }

    @Test("error messages never echo the database password")
    func passwordNotEchoed() {
        var environment = valid
        environment["DATABASE_URL"] = "postgres://u:hunter2@/db"
        #expect(error(environment)?.description.contains("hunter2") == false)
    }

    @Test("the default vhost is written %2F and credentials may be percent-encoded")
    func brokerURL() throws {
        var environment = valid
        environment["AMQP_URL"] = "amqps://svc:p%40ss@mq:5671/%2F"
        let broker = try ServiceConfiguration(service: .coupon, environment: environment).broker
        #expect(broker.virtualHost == "/")
        #expect(broker.password == "p@ss")
        #expect(broker.useTLS)
        #expect(!broker.redactedDescription.contains("p@ss"))
    }
}
