import Foundation

extension Journey {
    /// The tokens of the people the walk set up.
    struct People: Sendable {
        let hq: String
        let guide: String
        let manager: String
        let technicians: [String]
        let inviteCode: String
    }

    /// HQ opens a dealer and a store, registers its manager, guide and two technicians, gives
    /// the dealer a one-minute callback deadline for guides, and dispatch gets the technicians'
    /// skills, territory and hours (all day, every day, so any slot of the week has a crew).
    func setUp() async throws -> People {
        let hq = try await token(.hqAdmin, "hq-demo")
        let members = at.membership + "/api/v1"
        _ = try await client.must([201], .POST, members + "/dealers", token: hq, body: ["id": cast.dealer, "name": "Northern Beds \(cast.run)"])
        _ = try await client.must(
            [201],
            .POST,
            members + "/stores",
            token: hq,
            body: ["id": cast.store, "dealerId": cast.dealer, "name": "Harbour Road \(cast.run)", "timeZone": "Asia/Shanghai"]
        )
        log.line("HQ", "opens dealer \(cast.dealer) and store \(cast.store)")
        let staff: [(String, String, String, String)] = [
            (cast.manager, "store_manager", "Zhao Min", cast.managerPhone),
            (cast.guide, "guide", "Li Na", cast.guidePhone),
            (cast.technicians[0], "technician", "Chen Wei", cast.technicianPhones[0]),
            (cast.technicians[1], "technician", "Liu Yang", cast.technicianPhones[1]),
        ]
        var inviteCode = ""
        for (id, role, name, phone) in staff {
            let answer = try await client.must(
                [201],
                .POST,
                members + "/staff",
                token: hq,
                body: ["id": id, "dealerId": cast.dealer, "storeId": cast.store, "role": role, "name": name, "phone": phone]
            )
            if role == "guide" { inviteCode = answer["inviteCode"].string ?? "" }
            log.line("HQ", "registers \(name) (\(id)) as \(role), phone \(phone)")
        }
        guard !inviteCode.isEmpty else { throw JourneyFailure("the guide was registered without an invite code") }
        try await setPolicy(hq)
        try await qualifyTechnicians(hq)
        return People(
            hq: hq,
            guide: try await token(.guide, cast.guide),
            manager: try await token(.storeManager, cast.manager),
            technicians: [try await token(.technician, cast.technicians[0]), try await token(.technician, cast.technicians[1])],
            inviteCode: inviteCode
        )
    }

    private func setPolicy(_ hq: String) async throws {
        let url = at.feedback + "/api/v1/dealers/\(cast.dealer)/escalation-policy"
        let body: [String: any Sendable] = ["guideMinutes": guideMinutes, "storeManagerMinutes": 60, "dealerAdminMinutes": 60]
        _ = try await client.eventually("feedback knows dealer \(cast.dealer)", timeout: patience) {
            let answer = try await client.call(.PUT, url, token: hq, body: body)
            return (answer.status == 200 ? true : nil, "\(answer.status) \(answer.json)")
        }
        log.line("HQ", "sets \(cast.dealer)'s callback deadline for guides to \(guideMinutes) minute(s)")
    }

    private func qualifyTechnicians(_ hq: String) async throws {
        let hours = (1...7).map { day -> [String: any Sendable] in ["weekday": day, "from": "00:00", "to": "24:00"] }
        let profile: [String: any Sendable] = [
            "skills": ["mite_removal"], "territory": [cast.store], "hours": hours, "daysOff": [String](), "visitsPerDay": 12,
        ]
        for technician in cast.technicians {
            let url = at.dispatch + "/api/v1/technicians/\(technician)/profile"
            _ = try await log.hop("staff joined → \(technician) in dispatch") {
                try await client.eventually("dispatch takes \(technician)'s profile", timeout: patience) {
                    let answer = try await client.call(.PUT, url, token: hq, body: profile)
                    return (answer.status == 200 ? true : nil, "\(answer.status) \(answer.json)")
                }
            }
        }
        log.line("HQ", "gives both technicians the mite-removal skill, store \(cast.store), every day, 12 visits a day")
    }
}
