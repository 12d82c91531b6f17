public import Postgres

/// What each named database constraint means to a client: the field it guards and a sentence.
///
/// Rules are checked in Swift first; when a race or a path around Swift reaches the
/// database's own check, the store translates the violation through this catalog,
/// so the client still gets a precise error and never a 500.
public enum ConstraintCatalog {
    /// The domain error for a violation of a known constraint; nil for any other error.
    public static func domainError(for error: PostgresError) -> DomainError? {
        guard let constraint = error.constraint, let entry = entries[constraint] else { return nil }
        switch entry.kind {
        case .invalid: return .invalid(entry.field, entry.message)
        case .conflict: return .conflict(field: entry.field, message: entry.message)
        case .notFound: return .notFound(entry.message)
        }
    }

    /// Runs `body`, translating violations of known constraints into `DomainError`.
    public static func translating<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresError {
            throw domainError(for: error) ?? error
        }
    }

    enum Kind { case invalid, conflict, notFound }

    static let entries: [String: (kind: Kind, field: String, message: String)] = [
        "access_tokens_api_cap": (.conflict, "scopes", "you hold 20 live API tokens; revoke one first"),
        "access_tokens_scopes": (.invalid, "scopes", "must be read, or read and write"),
        "access_tokens_api_lifetime": (.invalid, "expiresInDays", "must be 1 to 365"),
        "access_tokens_label_length": (.invalid, "label", "must have 1 to 100 characters"),
        "units_verified_credit_code": (.conflict, "creditCode", "another verified unit holds this credit code; revoke it first"),
        "units_verification_known": (.invalid, "decision", "must be verified or rejected"),
        "units_decision_note_length": (.invalid, "note", "must have at most 500 characters"),
        "bids_unit_verified": (.conflict, "unit", "the unit is not verified by its municipal bureau, so it cannot bid yet"),
        "unit_licences_pdf": (.invalid, "file", "is not a PDF"),
        "unit_licences_size": (.invalid, "file", "must have 1 byte to 20 MiB"),
        "units_credit_code_valid": (.invalid, "creditCode", "is not a valid unified social credit code (GB 32100-2015)"),
        "units_region_code_prefecture": (.invalid, "regionCode", "is not the code of a city or prefecture"),
        "units_name_length": (.invalid, "name", "must have 2 to 200 characters"),
        "units_natures_known": (.invalid, "natures", "holds an unknown or repeated nature"),
        "units_natures_enterprise": (.invalid, "natures", "only an enterprise has natures"),
        "units_contact_name_length": (.invalid, "contactName", "must have 1 to 100 characters"),
        "units_contact_phone_format": (.invalid, "contactPhone", "is not a phone number"),
        "units_contact_email_format": (.invalid, "contactEmail", "is not an e-mail address"),
        "bureaus_name_key": (.conflict, "name", "a bureau with this name exists"),
        "bureaus_name_length": (.invalid, "name", "must have 2 to 200 characters"),
        "bureaus_region_level": (.invalid, "regionCode", "does not fit the bureau's level"),
        "users_login_key": (.conflict, "login", "is already in use"),
        "users_login_format": (.invalid, "login", "must be 3 to 254 characters, lower case, without surrounding spaces"),
        "users_display_name_length": (.invalid, "displayName", "must have 1 to 100 characters"),
        "users_scope": (.invalid, "role", "does not fit the unit or bureau given"),
        "users_bureau_level": (.invalid, "bureauID", "the bureau's level does not fit the role"),
        "users_unit_id_fkey": (.invalid, "unitID", "no such unit"),
        "users_bureau_id_fkey": (.invalid, "bureauID", "no such bureau"),
        "programmes_name_length": (.invalid, "name", "must have 2 to 200 characters"),
        "programmes_year_range": (.invalid, "year", "must be between 2000 and 2100"),
        "programmes_ratio_range": (.invalid, "fundingRatioCapBasisPoints", "must be between 1 and 10000"),
        "programmes_absolute_cap_positive": (.invalid, "fundingAbsoluteCapFen", "must be positive"),
        "programmes_funding_mode": (.invalid, "fundingMode", "must be upfront or post_subsidy"),
        "programmes_min_partners_range": (.invalid, "minPartners", "must be between 0 and 50"),
        "programmes_max_consortium_size": (.invalid, "maxConsortiumSize", "must leave room for the lead and the minimum partners"),
        "programmes_winners_positive": (.invalid, "winnersPerChallenge", "must be between 1 and 20"),
        "programmes_window": (.invalid, "applicationClosesAt", "must be after applicationOpensAt"),
        "programmes_publicity_range": (.invalid, "publicityWorkingDays", "must be between 1 and 30"),
        "programmes_name_year_key": (.conflict, "name", "the bureau already runs a programme of this name in this year"),
        "programmes_bureau_province": (.invalid, "bureauID", "a programme is run by a provincial bureau"),
        "programmes_policy_frozen": (.conflict, "policy", "the programme has published challenges; its policy is fixed"),
        "demands_region_prefecture": (.invalid, "regionCode", "is not the code of a city or prefecture"),
        "demands_industry_chain_length": (
            .invalid, "industryChain",
            "must have \(DemandLimits.industryChain.lowerBound) to \(DemandLimits.industryChain.upperBound) characters"
        ),
        "demands_need_length": (
            .invalid, "need", "must have \(DemandLimits.need.lowerBound) to \(DemandLimits.need.upperBound) characters"
        ),
        "demands_support_length": (
            .invalid, "supportConditions", "must have at most \(DemandLimits.supportConditions) characters"
        ),
        "demands_contact_name_length": (
            .invalid, "contactName",
            "must have \(DemandLimits.contactName.lowerBound) to \(DemandLimits.contactName.upperBound) characters"
        ),
        "demands_contact_phone_format": (.invalid, "contactPhone", "is not a phone number"),
        "demands_contact_email_format": (.invalid, "contactEmail", "is not an e-mail address"),
        "demands_remarks_length": (.invalid, "remarks", "must have at most \(DemandLimits.remarks) characters"),
        "demands_programme_id_fkey": (.invalid, "programmeID", "no such programme"),
        "demands_unit_id_fkey": (.invalid, "unitID", "no such unit"),
        "results_region_prefecture": (.invalid, "regionCode", "is not the code of a city or prefecture"),
        "results_title_length": (.invalid, "title", "must have 4 to 200 characters"),
        "results_summary_length": (.invalid, "summary", "must have 10 to 5000 characters"),
        "results_domain_length": (.invalid, "domain", "must have 2 to 50 characters"),
        "results_industry_chain_length": (.invalid, "industryChain", "must have 2 to 50 characters"),
        "results_keywords": (.invalid, "keywords", "must be at most 20 distinct items of 1 to 20 characters"),
        "results_maturity_range": (.invalid, "maturity", "must be between 1 and 9"),
        "results_ip_status_known": (
            .invalid, "ipStatus", "must be one of patent_granted, patent_pending, software_copyright, know_how, none"
        ),
        "results_contact_name_length": (.invalid, "contactName", "must have 1 to 100 characters"),
        "results_contact_phone_format": (.invalid, "contactPhone", "is not a phone number"),
        "results_contact_email_format": (.invalid, "contactEmail", "is not an e-mail address"),
        "results_unit_id_fkey": (.invalid, "unitID", "no such unit"),
        "results_university_or_institute": (.invalid, "unitID", "is neither a university nor an institute; enterprises file demands"),
        "results_project_id_key": (.conflict, "projectID", "the project's result is in the pool already"),
        "talents_region_prefecture": (.invalid, "regionCode", "is not the code of a city or prefecture"),
        "talents_name_length": (.invalid, "name", "must have 1 to 100 characters"),
        "talents_title_length": (.invalid, "title", "must have at most 50 characters"),
        "talents_fields": (.invalid, "fields", "must be 1 to 10 distinct items of 1 to 50 characters"),
        "talents_industry_chains": (.invalid, "industryChains", "must be at most 10 distinct items of 1 to 50 characters"),
        "talents_keywords": (.invalid, "keywords", "must be at most 20 distinct items of 1 to 20 characters"),
        "talents_summary_length": (.invalid, "summary", "must have 10 to 2000 characters"),
        "talents_availability_known": (.invalid, "availability", "must be one of available, limited, unavailable"),
        "talents_contact_name_length": (.invalid, "contactName", "must have 1 to 100 characters"),
        "talents_contact_phone_format": (.invalid, "contactPhone", "is not a phone number"),
        "talents_contact_email_format": (.invalid, "contactEmail", "is not an e-mail address"),
        "talents_unit_id_fkey": (.invalid, "unitID", "no such unit"),
        "talents_expert_id_fkey": (.invalid, "expertID", "no such expert"),
        "talents_expert_id_key": (.conflict, "expertID", "the expert has a talent record already: one person, one record"),
        "talents_expert_same_unit": (.invalid, "expertID", "the expert does not work for the talent's unit"),
        "demands_status_known": (.invalid, "status", "must be open, closed or lapsed"),
        "demands_closed_at": (.invalid, "status", "a closed demand records when it was closed, and only a closed one"),
        "demands_lapsed_at": (.invalid, "status", "a lapsed demand records when it lapsed, and only a lapsed one"),
        "demands_closed_final": (.conflict, "status", "the demand is closed; file a new one instead"),
        "demands_lapse_when_due": (.conflict, "status", "a demand lapses only when open and six months after it was last confirmed"),
        "challenges_title_length": (.invalid, "title", "must have 4 to 200 characters"),
        "challenges_task_length": (.invalid, "task", "must have 4 to 2000 characters"),
        "challenges_content_length": (.invalid, "content", "must have 4 to 20000 characters"),
        "challenges_indicators_present": (.invalid, "indicators", "must list 1 to 50 indicators"),
        "challenges_domain_length": (.invalid, "domain", "must have 2 to 50 characters"),
        "challenges_industry_chain_length": (.invalid, "industryChain", "must have 2 to 50 characters"),
        "challenges_completion_after_deadline": (.invalid, "completionDeadline", "must be after the application deadline"),
        "challenges_funding_positive": (.invalid, "fundingCeilingFen", "must be positive"),
        "challenges_winners_range": (.invalid, "winners", "must be between 1 and 20"),
        "challenges_publish_before_deadline": (.conflict, "applicationDeadline", "has passed; move it before publishing"),
        "challenges_deadline_in_window": (.conflict, "applicationDeadline", "lies after the programme's application window closes"),
        "challenges_amendment_required": (.conflict, "status", "a published challenge changes only through an amendment"),
        "challenges_status_forward": (.conflict, "status", "a published challenge cannot return to draft"),
        "challenge_amendments_version_key": (.conflict, "version", "another amendment of this version was made at the same time"),
        "challenge_amendments_reason_length": (.invalid, "reason", "must have 4 to 2000 characters"),
        "challenge_demands_demand_id_fkey": (.invalid, "demandIDs", "names a demand that does not exist"),
        "challenges_published_without_candidates": (
            .invalid, "content",
            "remove the 候选成果 and 候选人才 lines before publishing: they name other units' results and people"
        ),
        "challenge_demands_demand_open": (
            .invalid, "demandIDs", "names a closed or lapsed demand; only an open demand may be attached to a challenge"
        ),
        "bids_amounts_non_negative": (.invalid, "totalInvestmentFen", "amounts must not be negative"),
        "bids_funding_within_investment": (
            .invalid, "selfFundingFen", "self-funding plus requested funding must not exceed the total investment"
        ),
        "bids_team_array": (.invalid, "team", "must be a list"),
        "bids_route_length": (.invalid, "technicalRoute", "must have at most 20000 characters"),
        "bids_foundation_length": (.invalid, "rdFoundation", "must have at most 20000 characters"),
        "bids_challenge_open": (.conflict, "challengeID", "the challenge is not open for bids"),
        "bids_consortium_complete": (
            .conflict, "members", "the consortium lacks the programme's minimum of accepted partners, or exceeds its size"
        ),
        "bids_funding_cap": (.conflict, "requestedFundingFen", "exceeds the programme's funding cap"),
        "bids_funding_ceiling": (.conflict, "requestedFundingFen", "exceeds the challenge's funding ceiling"),
        "notification_mutes_optional": (.conflict, "occasion", "a mandatory occasion cannot be muted"),
        "projects_bid_once": (.conflict, "bidID", "the bid already has a project"),
        "projects_final_award": (.conflict, "bidID", "the bid has no final award"),
        "projects_award_within_request": (.invalid, "awardFen", "exceeds the funding the bid requested"),
        "projects_transition": (.conflict, "status", "the project's status does not allow this"),
        "projects_one_extension": (.conflict, "newDeadline", "the deadline is extended at most once, by at most one year"),
        "project_indicators_not_lowered": (.invalid, "indicators", "a target lowers the challenge's indicator"),
        "tranches_within_award": (.invalid, "tranches", "the tranches would exceed the award"),
        "tranches_paid_after_milestone": (.conflict, "trancheID", "the tranche is paid only once its milestone is approved"),
        "tranches_project_live": (.conflict, "trancheID", "the project is stopped or failed"),
        "progress_reports_year_of_project": (.invalid, "year", "must be from the year the project started to the current year"),
        "progress_reports_pkey": (.conflict, "year", "the project's progress report for this year is already filed"),
        "project_changes_one_extension": (.conflict, "kind", "the deadline was already extended once"),
        "project_changes_one_pending": (.conflict, "kind", "a request of this kind is already pending"),
        "project_changes_extension_range": (
            .invalid, "newDeadline", "must be later than the deadline, by at most one year from the one first contracted"
        ),
        "programmes_recommendation_after_application": (.invalid, "recommendationClosesAt", "must be after applicationClosesAt"),
        "acceptances_attempt_once": (.conflict, "status", "the project was already submitted for acceptance"),
        "acceptances_one_open": (.conflict, "status", "the project's acceptance is already under way"),
        "acceptances_project_executing": (.conflict, "status", "acceptance is requested while the project executes"),
        "acceptances_rectification_window": (
            .conflict, "status", "a rectified project is resubmitted only within three months of the notice"
        ),
        "acceptances_complete": (.conflict, "status", "the acceptance lacks verdicts or the financial judgement"),
        "acceptances_pass_needs_both": (.conflict, "conclusion", "an acceptance passes only when the task and the finances pass"),
        "acceptance_panel_conflict": (.conflict, "expertID", "the expert must not judge this project"),
        "acceptance_verdicts_pkey": (.conflict, "verdict", "the expert already gave a verdict"),
        "acceptance_verdicts_must_fail": (
            .invalid, "conclusion", "must be fail when an indicator is not met, data are untrue or targets changed without approval"
        ),
        "acceptance_verdicts_assigned": (.conflict, "status", "the acceptance is not awaiting verdicts"),
        "success_list_entries_pkey": (.conflict, "projectID", "the project is already on a published list"),
        "bids_commitment": (.conflict, "completionCommitment", "the lead must commit to finish by the completion deadline"),
        "bids_locked_after_deadline": (.conflict, "status", "the application deadline has passed: the bid is locked"),
        "bids_region_quota": (.conflict, "decision", "the region's quota of recommendations is used"),
        "bids_formal_outcome": (.conflict, "items", "the outcome does not follow the items"),
        "bids_formal_after_recommendation": (.conflict, "status", "only a recommended bid is checked"),
        "bid_members_consortium_fixed": (.conflict, "members", "the consortium of a submitted bid is fixed"),
        "bid_members_one_live_bid": (.conflict, "members", "a unit of this consortium is already in another live bid of the programme"),
        "bid_members_pkey": (.conflict, "unitID", "the unit is already in this consortium"),
        "bid_submissions_pkey": (.conflict, "version", "this version was submitted at the same time"),
        "bid_attachments_pdf": (.invalid, "body", "must be a PDF file"),
        "bid_attachments_size": (.invalid, "body", "must have 1 byte to 20 MiB"),
        "bid_attachments_filename": (.invalid, "filename", "must have 1 to 200 characters and no slashes"),
        "recommendation_quotas_region": (.invalid, "regionCode", "is not the code of a city or prefecture"),
        "bid_recommendations_opinion": (.invalid, "opinion", "must have 2 to 5000 characters"),
        "bid_formal_checks_reason": (.invalid, "items", "a failed item needs a reason"),
        "experts_pkey": (.conflict, "login", "this user already has an expert profile"),
        "experts_user_expert": (.invalid, "role", "an expert profile belongs to a user whose role is expert"),
        "experts_bureau_province": (.invalid, "bureauID", "an expert pool is kept by a provincial bureau"),
        "experts_unit_id_fkey": (.invalid, "unitID", "no such unit"),
        "experts_organisation_length": (.invalid, "organisation", "must have 2 to 200 characters"),
        "experts_region_format": (.invalid, "regionCode", "is not the code of a province or prefecture"),
        "experts_title_length": (.invalid, "title", "must have at most 100 characters"),
        "experts_domains": (.invalid, "domains", "must list at most \(ExpertInput.maximumDomains) distinct domains"),
        "experts_industry_chains": (
            .invalid, "industryChains", "must list at most \(ExpertInput.maximumIndustryChains) distinct industry chains"
        ),
        "experts_keywords": (.invalid, "keywords", "must list at most \(ExpertInput.maximumKeywords) distinct keywords"),
        "experts_tags_length": (.invalid, "domains", "each domain, industry chain and keyword must have 1 to 50 characters"),
        "experts_load_cap_range": (.invalid, "loadCap", "must be between 1 and 200"),
        "experts_retired_unavailable": (.conflict, "available", "a retired expert is reinstated before being made available"),
        "expert_ties_pkey": (.conflict, "unitID", "the expert already declared a tie to this unit"),
        "expert_ties_unit_id_fkey": (.invalid, "unitID", "no such unit"),
        "expert_ties_expert_id_fkey": (.invalid, "expertID", "no such expert"),
        "expert_ties_reason_length": (.invalid, "reason", "must have 2 to 500 characters"),
        // Scoring and award (migration 0019, definitions/12_awards.sql).
        "rubric_criteria_locked": (.conflict, "criteria", "a score of this programme is submitted: its rubric is fixed"),
        "rubric_criteria_pkey": (.invalid, "criteria", "names a criterion twice"),
        "rubric_criteria_position_key": (.invalid, "criteria", "places two criteria at one position"),
        "rubric_criteria_key_format": (.invalid, "criteria", "a key is 2 to 40 lower-case letters, digits or _"),
        "rubric_criteria_name_length": (.invalid, "criteria", "a name has 2 to 50 characters"),
        "rubric_criteria_weight_range": (.invalid, "criteria", "a weight is between 1 and 100"),
        "rubric_criteria_score_range": (.invalid, "criteria", "a range is 0 ≤ minScore < maxScore ≤ 100"),
        "rubric_criteria_position_range": (.invalid, "criteria", "a rubric has at most 10 criteria"),
        "review_scores_locked": (.conflict, "status", "a submitted score is locked"),
        "review_scores_panel_seat": (.conflict, "assignment", "only an active panel seat is scored"),
        "review_scores_round_open": (.conflict, "round", "the round is not open for scoring"),
        "review_scores_deadline": (.conflict, "scoringDeadline", "the scoring deadline has passed"),
        "review_scores_complete": (.invalid, "items", "a submitted score has a value for every criterion of the rubric"),
        "review_score_items_criterion": (.invalid, "items", "names a criterion the rubric does not have"),
        "review_score_items_range": (.invalid, "items", "a score is outside its criterion's range"),
        "review_score_items_comment_length": (.invalid, "items", "a comment has at most 2000 characters"),
        "review_rounds_close_assigned": (.conflict, "status", "only an assigned round closes"),
        "review_rounds_close_scored": (
            .conflict, "scoringDeadline", "the round closes after its deadline or once every panel score is submitted"
        ),
        "awards_published_fixed": (.conflict, "stage", "the challenge's winners are published and fixed"),
        "awards_round_closed": (.conflict, "round", "winners are picked once the challenge's review round is closed"),
        "awards_bid_eligible": (.invalid, "bidId", "a winner is a formally passed bid of the challenge"),
        "awards_winners_limit": (.conflict, "winners", "the challenge's winners are all picked"),
        "awards_bid_once": (.conflict, "bidId", "the bid is already a winner"),
        "award_notices_pkey": (.conflict, "stage", "the challenge's winners are already published"),
        "award_notices_winners": (.conflict, "winners", "pick the challenge's winners before publishing them"),
        "award_notices_fixed": (.conflict, "stage", "a published notice changes only by its finalisation"),
        "award_notices_period_open": (.conflict, "objectionsCloseAt", "the 公示 period has not ended"),
        "award_notices_final_after_period": (.conflict, "objectionsCloseAt", "the 公示 period has not ended"),
        "award_notices_objections_open": (.conflict, "objections", "every objection is resolved before the award is final"),
        "award_objections_period": (.conflict, "challengeID", "the 公示 period is over: objections are closed"),
        "award_objections_fixed": (.conflict, "resolution", "an objection changes only by its resolution, once"),
        "award_objections_text_length": (.invalid, "text", "must have 10 to 5000 characters"),
        "award_objections_resolution": (.invalid, "resolution", "must have 2 to 5000 characters"),
        "webhook_endpoints_owner": (.invalid, "owner", "a webhook belongs to exactly one unit or one bureau"),
        "webhook_endpoints_url": (.invalid, "url", "must be an absolute http or https URL with a host, at most 2000 characters"),
        "webhook_deliveries_once": (.conflict, "delivery", "the endpoint already has this delivery"),
        "webhook_deliveries_status": (.invalid, "status", "must be pending, delivered or failed"),
        "users_email_format": (
            .invalid, "email", "must be an ASCII address such as name@example.com (a dot-atom at a domain), at most 254 characters"
        ),
        "email_messages_once": (.conflict, "notification", "the notification already has its e-mail"),
        "email_messages_status": (.invalid, "status", "must be pending, sent or failed"),
    ]
}
