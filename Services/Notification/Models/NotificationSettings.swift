import AftercareContracts
import AftercareRuntime
import Foundation

/// Where an HTTP provider is and how it authenticates. The key is a secret: it comes only
/// from the environment and is never logged.
struct ProviderEndpoint: Sendable, Equatable {
    var baseURL: String
    var apiKey: String?
}

/// The service's configurable behaviour, from the environment.
struct NotificationSettings: Sendable, Equatable {
    /// Nil: the local recording provider stands in for the SMS gateway.
    var sms: ProviderEndpoint?
    var smsFailover: ProviderEndpoint?
    /// Nil: the local recording provider stands in for the official-account API.
    var officialAccount: ProviderEndpoint?
    var officialAccountFailover: ProviderEndpoint?
    /// One provider call may take this long before it counts as a timeout (retried). At most
    /// 6 s: a send tries two providers inside one job, whose 15 s lease must not lapse.
    var providerTimeout: Duration = .seconds(5)
    /// Sends tried before a delivery is given up as failed.
    var maxAttempts = 5
    /// The first retry waits this long; each later one twice as long.
    var retryBaseSeconds: TimeInterval = 30
    var quietHours = QuietHours.standard
    /// Marketing messages one member receives per day at most, on their own wall clock.
    var marketingDailyCap = 2
    var defaultTimeZone = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
    var defaultLocale = "zh-CN"

    static func read(_ reader: EnvironmentReader) throws -> NotificationSettings {
        var settings = NotificationSettings()
        func endpoint(_ variable: String, _ url: String?, key: String?) throws -> ProviderEndpoint? {
            guard let url else { return nil }
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                throw ConfigurationError(variable: variable, problem: "must be an http:// or https:// URL")
            }
            return ProviderEndpoint(baseURL: url, apiKey: key)
        }
        settings.sms = try endpoint("NOTIFICATION_SMS_URL", reader.optional("NOTIFICATION_SMS_URL"), key: reader.optional("NOTIFICATION_SMS_API_KEY"))
        settings.smsFailover = try endpoint(
            "NOTIFICATION_SMS_FAILOVER_URL",
            reader.optional("NOTIFICATION_SMS_FAILOVER_URL"),
            key: reader.optional("NOTIFICATION_SMS_FAILOVER_API_KEY")
        )
        settings.officialAccount = try endpoint(
            "NOTIFICATION_OA_URL",
            reader.optional("NOTIFICATION_OA_URL"),
            key: reader.optional("NOTIFICATION_OA_API_KEY")
        )
        settings.officialAccountFailover = try endpoint(
            "NOTIFICATION_OA_FAILOVER_URL",
            reader.optional("NOTIFICATION_OA_FAILOVER_URL"),
            key: reader.optional("NOTIFICATION_OA_FAILOVER_API_KEY")
        )
        if settings.sms == nil, settings.smsFailover != nil {
            throw ConfigurationError(
                variable: "NOTIFICATION_SMS_FAILOVER_URL",
                problem: "needs NOTIFICATION_SMS_URL: a failover stands behind a primary"
            )
        }
        if settings.officialAccount == nil, settings.officialAccountFailover != nil {
            throw ConfigurationError(
                variable: "NOTIFICATION_OA_FAILOVER_URL",
                problem: "needs NOTIFICATION_OA_URL: a failover stands behind a primary"
            )
        }
        settings.providerTimeout = .milliseconds(try reader.int("NOTIFICATION_PROVIDER_TIMEOUT_MS", default: 5000, range: 100...6000))
        settings.maxAttempts = try reader.int("NOTIFICATION_MAX_ATTEMPTS", default: 5, range: 1...20)
        settings.retryBaseSeconds = TimeInterval(try reader.int("NOTIFICATION_RETRY_BASE_SECONDS", default: 30, range: 1...3600))
        let quiet = reader.string("NOTIFICATION_QUIET_HOURS", default: QuietHours.standard.description)
        guard let hours = QuietHours(quiet) else {
            throw ConfigurationError(variable: "NOTIFICATION_QUIET_HOURS", problem: "must be HH:mm-HH:mm, e.g. 21:00-09:00")
        }
        settings.quietHours = hours
        settings.marketingDailyCap = try reader.int("NOTIFICATION_MARKETING_DAILY_CAP", default: 2, range: 0...100)
        let zone = reader.string("NOTIFICATION_DEFAULT_TIME_ZONE", default: "Asia/Shanghai")
        guard let timeZone = TimeZone(checking: zone) else {
            throw ConfigurationError(variable: "NOTIFICATION_DEFAULT_TIME_ZONE", problem: "must be an IANA time zone such as Asia/Shanghai")
        }
        settings.defaultTimeZone = timeZone
        settings.defaultLocale = reader.string("NOTIFICATION_DEFAULT_LOCALE", default: "zh-CN")
        guard MessageTemplate.locales.contains(settings.defaultLocale) else {
            throw ConfigurationError(
                variable: "NOTIFICATION_DEFAULT_LOCALE",
                problem: "must be one of \(MessageTemplate.locales.joined(separator: ", "))"
            )
        }
        return settings
    }

    /// The delay before retry number `attempt` (1 = the first retry).
    func retryDelay(after attempt: Int) -> TimeInterval {
        min(retryBaseSeconds * pow(2, Double(min(attempt - 1, 16))), 6 * 3600)
    }
}
