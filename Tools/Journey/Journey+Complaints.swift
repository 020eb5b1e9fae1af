import Foundation

extension Journey {
    /// The complaint desk's share of a busy day: a member of the walk's store files `count`
    /// complaints one after another, each with its own `Idempotency-Key` (a filing cut off by
    /// a fault is sent again with the same key, as the member's app would). The guide calls
    /// back on every other one at once and leaves the rest to climb to the store manager after
    /// the dealer's deadline. `filed` hears each key the desk accepted.
    public func fileComplaints(_ count: Int, filed: @Sendable (String) -> Void) async throws {
        let people = try await setUp()
        let member = try await join(people)
        for number in 1...max(1, count) {
            let key = "complaint-\(cast.run)-\(number)"
            let opened = try await client.eventually("complaint \(key) accepted", timeout: patience) {
                let answer = try await client.call(
                    .POST,
                    at.feedback + "/api/v1/complaints",
                    token: member.token,
                    body: [
                        "channel": "mini_program", "category": "product_quality", "severity": "medium",
                        "description": "The mattress sags on one side (\(number))", "relatedReference": key,
                    ],
                    headers: [("Idempotency-Key", key)]
                )
                // Feedback may not know the member yet: their registration is still on its way.
                return (answer.status == 201 ? answer : nil, "\(answer.status) \(answer.json)")
            }
            filed(key)
            guard let task = opened["callbackTask"]["id"].string else {
                throw JourneyFailure("complaint \(key) without a callback task: \(opened.json)")
            }
            log.line("member Wang Fang", "complains (\(key)): callback task \(task) for guide Li Na")
            guard number.isMultiple(of: 2) else { continue }
            _ = try await client.must(
                [200],
                .POST,
                at.feedback + "/api/v1/callback-tasks/\(task)/calls",
                token: people.guide,
                body: ["reached": true, "note": "Arranged a replacement"]
            )
            log.line("guide Li Na", "calls Wang Fang back on \(key)")
        }
    }
}
