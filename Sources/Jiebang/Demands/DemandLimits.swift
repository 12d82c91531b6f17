/// The limits of a demand's fields, written once: the API's demand filing and the CSV import both check
/// them, and `DemandLimitsTests` holds each one to the `demands` table's CHECK of the same name, so the
/// Swift check and the database's cannot drift apart.
///
/// Lengths are in Unicode code points, as the database's `char_length` counts them; a range applies to
/// the text trimmed (the CHECK's `btrim`), a maximum to the text as stored.
public enum DemandLimits {
    /// 所属重点产业链: `demands_industry_chain_length`, one line.
    public static let industryChain = 2...50
    /// 技术需求: `demands_need_length`.
    public static let need = 5...5000
    /// 支持条件: `demands_support_length`.
    public static let supportConditions = 5000
    /// 联系人: `demands_contact_name_length`, one line.
    public static let contactName = 1...100
    /// 备注: `demands_remarks_length`.
    public static let remarks = 2000

    /// The text fields of a demand, as they will be stored.
    public struct Fields: Sendable, Hashable {
        /// 所属重点产业链.
        public var industryChain: String
        /// 技术需求.
        public var need: String
        /// 支持条件.
        public var supportConditions: String
        /// 联系人.
        public var contactName: String
        /// 联系电话.
        public var contactPhone: String
        /// 电子邮箱.
        public var contactEmail: String
        /// 备注.
        public var remarks: String

        /// Creates the fields to check.
        public init(
            industryChain: String, need: String, supportConditions: String, contactName: String, contactPhone: String,
            contactEmail: String, remarks: String
        ) {
            self.industryChain = industryChain
            self.need = need
            self.supportConditions = supportConditions
            self.contactName = contactName
            self.contactPhone = contactPhone
            self.contactEmail = contactEmail
            self.remarks = remarks
        }
    }

    /// Checks every field against the limits (and the phone and e-mail rules the table also checks),
    /// recording each issue under the field's API name (`industryChain`, `need`, …).
    public static func check(_ fields: Fields, into checker: inout FieldChecker) {
        checker.name("industryChain", fields.industryChain, industryChain)
        checker.length("need", fields.need, need)
        checker.maxLength("supportConditions", fields.supportConditions, supportConditions)
        checker.name("contactName", fields.contactName, contactName)
        checker.phone("contactPhone", fields.contactPhone)
        checker.email("contactEmail", fields.contactEmail)
        checker.maxLength("remarks", fields.remarks, remarks)
    }
}
