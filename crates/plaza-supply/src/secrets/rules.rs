//! The secret rules: what a credential of each kind looks like. A [`Rule`] has a stable kebab-case
//! id, keywords for the prefilter (a rule only runs near one of its keywords, and a match must
//! contain one), a regex (`regex` crate, bytes API, compiled with Unicode off so `\w`, `\d` and
//! `\s` are ASCII), which part of the match is the secret, and optional entropy and shape checks.
//!
//! [`builtin_rules`] is Plaza's rule set, written from each vendor's published token format.
//! Order matters: when two rules find overlapping secrets the earlier (more specific) one wins,
//! so the generic high-entropy assignment rule comes last. Not included on purpose: Stripe
//! publishable keys (`pk_live_…`) and Twilio account SIDs, which are public identifiers meant to
//! be embedded in client code.

use serde::Serialize;

/// Bytes scanned on each side of a keyword hit when a rule does not say otherwise; at least the
/// longest token a rule can match.
pub const DEFAULT_WINDOW: usize = 256;

/// Which part of a regex match is the secret (what is redacted, fingerprinted and entropy-checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SecretPart {
    /// The whole match.
    WholeMatch,
    /// One capture group (1-based, as the `regex` crate numbers them).
    Group(usize),
    /// The first capture group that took part in the match (for regexes with one alternative
    /// per quoting style).
    FirstGroup,
}

/// An extra check on a candidate secret beyond regex and entropy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Check {
    /// No extra check.
    None,
    /// The first dot-separated part is base64url of a JSON object with an `alg` member.
    JwtHeader,
    /// Not a placeholder or a reference: no `${VAR}`/`<value>`/`%s` template, no URL
    /// (`vault://…`, a secret reference) or file path, no dotted identifier path, not a
    /// well-known dummy word such as `password` or `changeme`, not one character repeated.
    NotPlaceholder,
    /// For `name = value` rules: [`Check::NotPlaceholder`], and the value is not a plain word or
    /// identifier (no digit, only letters or lower-case words), and the name does not end like a
    /// reference or metadata key (`…Name`, `…_type`, `…_file`, `…_id`, `…_url`).
    Assignment,
}

/// One kind of credential.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// Stable kebab-case id, used in findings and allow-lists (`github-pat`).
    pub id: String,
    /// What the rule finds, for people.
    pub description: String,
    /// Prefilter keywords, matched ASCII-case-insensitively; a match must contain one.
    pub keywords: Vec<String>,
    /// The regex (bytes API, Unicode off).
    pub regex: String,
    /// Which part of the match is the secret.
    pub secret: SecretPart,
    /// Minimum Shannon entropy (bits per byte) of the secret, if any.
    pub min_entropy: Option<f64>,
    /// Bytes scanned on each side of a keyword hit; at least the longest possible match.
    pub window: usize,
    /// Extra validation of the secret.
    pub check: Check,
    /// For `name = value` rules: a keyword hit only counts when `=` or `:` follows within this
    /// many bytes after it. Keeps the rule off prose that merely mentions "token" or "password".
    pub assignment_within: Option<usize>,
    /// Every match starts exactly at a keyword hit: the regex then runs anchored at each hit
    /// (over `window` bytes) instead of over the windows around hits, which is much cheaper for
    /// rules with common keywords (`token`, `password`).
    pub anchored: bool,
}

impl Rule {
    /// A rule whose secret is capture group 1, with the default window and no entropy check.
    pub fn new(id: &str, description: &str, keywords: &[&str], regex: &str) -> Self {
        Self {
            id: id.to_owned(),
            description: description.to_owned(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            regex: regex.to_owned(),
            secret: SecretPart::Group(1),
            min_entropy: None,
            window: DEFAULT_WINDOW,
            check: Check::None,
            assignment_within: None,
            anchored: false,
        }
    }

    /// Sets which part of the match is the secret.
    pub fn with_secret(mut self, secret: SecretPart) -> Self {
        self.secret = secret;
        self
    }

    /// Sets the minimum Shannon entropy of the secret.
    pub fn with_min_entropy(mut self, bits_per_byte: f64) -> Self {
        self.min_entropy = Some(bits_per_byte);
        self
    }

    /// Sets the window scanned around each keyword hit.
    pub fn with_window(mut self, bytes: usize) -> Self {
        self.window = bytes;
        self
    }

    /// Requires `=` or `:` within `bytes` after a keyword hit.
    pub fn with_assignment_within(mut self, bytes: usize) -> Self {
        self.assignment_within = Some(bytes);
        self
    }

    /// Declares that every match starts at a keyword hit (see [`Rule::anchored`]).
    pub fn anchored_at_keyword(mut self) -> Self {
        self.anchored = true;
        self
    }

    /// Sets an extra check.
    pub fn with_check(mut self, check: Check) -> Self {
        self.check = check;
        self
    }
}

/// Assignment operators between a key name and its value (`=`, `:`, `=>`, `:=`), with spacing.
const ASSIGN: &str = r#"["']?\s{0,5}(?:=>|:=|=|:)\s{0,5}["']?"#;

/// Plaza's built-in rules (more specific first; the generic assignment rule last).
pub fn builtin_rules() -> Vec<Rule> {
    let alnum_token = |id: &str, desc: &str, prefix: &str, body: &str| {
        Rule::new(
            id,
            desc,
            &[prefix],
            &format!(r"\b({}{})\b", regex_escape(prefix), body),
        )
        .with_min_entropy(3.0)
    };
    let dashed_token = |id: &str, desc: &str, keywords: &[&str], token: &str| {
        Rule::new(
            id,
            desc,
            keywords,
            &format!(r"\b({token})(?:[^A-Za-z0-9_\-]|$)"),
        )
        .with_min_entropy(3.0)
    };
    vec![
        // --- Cloud providers -------------------------------------------------------------
        Rule::new(
            "aws-access-key-id",
            "AWS access key id",
            &["akia", "asia", "abia", "acca"],
            r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        )
        .with_min_entropy(3.0),
        Rule::new(
            "aws-secret-access-key",
            "AWS secret access key (40 base64 characters assigned to an AWS secret key name)",
            &["aws", "secretaccesskey", "secret_access_key"],
            &format!(
                r"(?:(?i:aws)[\w.\-]{{0,30}}?(?i:secret|sk|private)[\w.\-]{{0,20}}|(?i:secret_?access_?key)){ASSIGN}([A-Za-z0-9/+]{{40}})(?:[^A-Za-z0-9/+=]|$)"
            ),
        )
        .with_min_entropy(4.0)
        .anchored_at_keyword(),
        Rule::new(
            "gcp-service-account-key",
            "Google Cloud service-account JSON private key",
            &["private_key"],
            r#""private_key"\s*:\s*"(-----BEGIN (?:RSA )?PRIVATE KEY-----(?:\\r)?\\n[A-Za-z0-9+/=\\]{64,})"#,
        )
        .with_window(16 * 1024),
        dashed_token(
            "gcp-oauth-client-secret",
            "Google OAuth client secret",
            &["gocspx-"],
            r"GOCSPX-[A-Za-z0-9_\-]{28}",
        ),
        dashed_token(
            "google-api-key",
            "Google API key",
            &["aiza"],
            r"AIza[0-9A-Za-z_\-]{35}",
        ),
        Rule::new(
            "azure-storage-connection-string",
            "Azure storage account connection string with its account key",
            &["defaultendpointsprotocol"],
            r#"(?i:DefaultEndpointsProtocol)=https?;[^"'\s]{0,200}?(?i:AccountKey)=([A-Za-z0-9+/]{86}==)"#,
        )
        .with_window(512),
        Rule::new(
            "azure-storage-account-key",
            "Azure storage account key",
            &["accountkey", "account_key", "storagekey", "storage_key", "storage-key", "azure"],
            &format!(
                r"(?i:account_?key|storage[_\-]?(?:account[_\-]?)?key|azure[\w.\-]{{0,30}}?key)[\w.\-]{{0,10}}{ASSIGN}([A-Za-z0-9+/]{{86}}==)"
            ),
        )
        .with_min_entropy(4.0)
        .anchored_at_keyword(),
        Rule::new(
            "azure-sas-token",
            "Azure shared access signature (the `sig=` of a SAS URL or token)",
            &["sig="],
            r#"sv=\d{4}-\d{2}-\d{2}&[^\s"'<>]{0,400}?&sig=([A-Za-z0-9%+/]{30,120}(?:=|%3[Dd]){0,2})"#,
        )
        .with_min_entropy(3.5)
        .with_window(640),
        Rule::new(
            "azure-ad-client-secret",
            "Microsoft Entra ID (Azure AD) application client secret",
            &["q~"],
            r"(?:^|[^A-Za-z0-9_~.\-])([A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)",
        )
        .with_min_entropy(3.5),
        Rule::new(
            "alibaba-access-key-id",
            "Alibaba Cloud access key id",
            &["ltai"],
            r"\b(LTAI[A-Za-z0-9]{20})\b",
        )
        .with_min_entropy(3.0),
        dashed_token(
            "digitalocean-token",
            "DigitalOcean personal access, OAuth or refresh token",
            &["dop_v1_", "doo_v1_", "dor_v1_"],
            r"do[por]_v1_[a-f0-9]{64}",
        ),
        Rule::new(
            "heroku-api-key",
            "Heroku API key (a UUID assigned to a Heroku key name)",
            &["heroku"],
            &format!(
                r"(?i:heroku)[\w.\-]{{0,30}}?(?i:api|key|token|auth)[\w.\-]{{0,20}}{ASSIGN}([0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}})\b"
            ),
        )
        .anchored_at_keyword(),
        dashed_token(
            "heroku-api-key-v2",
            "Heroku API key (HRKU- format)",
            &["hrku-"],
            r"HRKU-[A-Za-z0-9_\-]{60}",
        ),
        dashed_token(
            "terraform-cloud-token",
            "Terraform Cloud / Enterprise API token",
            &[".atlasv1."],
            r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}",
        ),
        dashed_token(
            "vault-service-token",
            "HashiCorp Vault service token",
            &["hvs."],
            r"hvs\.[A-Za-z0-9_\-]{24,}",
        )
        .with_min_entropy(3.5),
        dashed_token(
            "vault-batch-token",
            "HashiCorp Vault batch token",
            &["hvb."],
            r"hvb\.[A-Za-z0-9_\-]{100,}",
        )
        .with_min_entropy(3.5)
        .with_window(1024),
        Rule::new(
            "doppler-token",
            "Doppler personal, service, service-account, CLI, SCIM or audit token",
            &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
            r"\b(dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_\-]{2,35}\.)?[A-Za-z0-9]{40,44})\b",
        )
        .with_min_entropy(3.0),
        dashed_token(
            "pulumi-access-token",
            "Pulumi access token",
            &["pul-"],
            r"pul-[a-f0-9]{40}",
        ),
        dashed_token(
            "databricks-token",
            "Databricks personal access token",
            &["dapi"],
            r"dapi[a-f0-9]{32}(?:-\d)?",
        ),
        // --- Source hosting and package registries ------------------------------------------
        alnum_token("github-pat", "GitHub personal access token (classic)", "ghp_", "[A-Za-z0-9]{36}"),
        alnum_token("github-oauth-token", "GitHub OAuth access token", "gho_", "[A-Za-z0-9]{36}"),
        alnum_token(
            "github-user-to-server-token",
            "GitHub App user-to-server token",
            "ghu_",
            "[A-Za-z0-9]{36}",
        ),
        alnum_token(
            "github-server-to-server-token",
            "GitHub App installation (server-to-server) token",
            "ghs_",
            "[A-Za-z0-9]{36}",
        ),
        alnum_token("github-refresh-token", "GitHub refresh token", "ghr_", "[A-Za-z0-9]{36,76}"),
        alnum_token(
            "github-fine-grained-pat",
            "GitHub fine-grained personal access token",
            "github_pat_",
            "[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
        ),
        Rule::new(
            "gitlab-pat",
            "GitLab personal, project or group access token",
            &["glpat-"],
            r"\b(glpat-[A-Za-z0-9_\-]{20,64}(?:\.[A-Za-z0-9]{2}\.[A-Za-z0-9]{7,12})?)(?:[^A-Za-z0-9_\-]|$)",
        )
        .with_min_entropy(3.0),
        dashed_token(
            "gitlab-deploy-token",
            "GitLab deploy token",
            &["gldt-"],
            r"gldt-[A-Za-z0-9_\-]{20,64}",
        ),
        Rule::new(
            "gitlab-runner-token",
            "GitLab runner authentication token",
            &["glrt-"],
            r"\b(glrt-[A-Za-z0-9_\-]{20,64}(?:\.[A-Za-z0-9]{2}\.[A-Za-z0-9]{7,12})?)(?:[^A-Za-z0-9_\-]|$)",
        )
        .with_min_entropy(3.0),
        alnum_token(
            "gitlab-pipeline-trigger-token",
            "GitLab pipeline trigger token",
            "glptt-",
            "[0-9a-f]{40}",
        ),
        dashed_token(
            "gitlab-runner-registration-token",
            "GitLab runner registration token (legacy)",
            &["gr1348941"],
            r"GR1348941[A-Za-z0-9_\-]{20}",
        ),
        alnum_token("npm-access-token", "npm access token", "npm_", "[A-Za-z0-9]{36}"),
        dashed_token(
            "pypi-upload-token",
            "PyPI or TestPyPI upload token",
            &["pypi-ageicHlwaS5vcmc", "pypi-agendgvzdc5wexbplm9yzw"],
            r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,}",
        )
        .with_window(1024),
        alnum_token("rubygems-api-key", "RubyGems API key", "rubygems_", "[a-f0-9]{48}"),
        dashed_token(
            "dockerhub-pat",
            "Docker Hub personal or organisation access token",
            &["dckr_pat_", "dckr_oat_"],
            r"dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,40}",
        ),
        // --- Chat and collaboration ------------------------------------------------------
        alnum_token(
            "slack-bot-token",
            "Slack bot token",
            "xoxb-",
            "[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,34}",
        ),
        Rule::new(
            "slack-user-token",
            "Slack user token",
            &["xoxp-", "xoxe-"],
            r"\b(xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9]{28,34})\b",
        )
        .with_min_entropy(3.0),
        alnum_token(
            "slack-app-token",
            "Slack app-level token",
            "xapp-",
            r"\d-[A-Z0-9]{9,12}-\d{10,13}-[A-Za-z0-9]{32,80}",
        ),
        Rule::new(
            "slack-webhook-url",
            "Slack incoming webhook URL",
            &["hooks.slack.com"],
            r"hooks\.slack\.com/(?:services|workflows|triggers)/(T[A-Z0-9]{8,12}/[AB][A-Z0-9]{8,12}/[A-Za-z0-9]{23,34})\b",
        )
        .with_min_entropy(3.0),
        Rule::new(
            "discord-bot-token",
            "Discord bot token (near the word Discord)",
            &["discord"],
            r"(?i:discord)(?s:.){0,200}?\b([MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40})(?:[^A-Za-z0-9_\-]|$)",
        )
        .with_min_entropy(3.5)
        .with_window(320),
        Rule::new(
            "discord-webhook-url",
            "Discord webhook URL",
            &["discord.com/api/webhooks", "discordapp.com/api/webhooks"],
            r"discord(?:app)?\.com/api/webhooks/(\d{17,20}/[A-Za-z0-9_\-]{60,70})(?:[^A-Za-z0-9_\-]|$)",
        )
        .with_min_entropy(3.0),
        dashed_token(
            "telegram-bot-token",
            "Telegram bot token",
            &[":aa"],
            r"\d{8,10}:AA[A-Za-z0-9_\-]{33}",
        ),
        dashed_token(
            "atlassian-api-token",
            "Atlassian (Jira, Confluence) API token",
            &["atatt3"],
            r"ATATT3[A-Za-z0-9_\-=]{150,250}",
        )
        .with_window(512),
        alnum_token("linear-api-key", "Linear API key", "lin_api_", "[A-Za-z0-9]{40}"),
        alnum_token(
            "postman-api-key",
            "Postman API key",
            "PMAK-",
            "[a-f0-9]{24}-[a-f0-9]{34}",
        ),
        // --- Payments and commerce -------------------------------------------------------
        alnum_token("stripe-secret-key", "Stripe live secret key", "sk_live_", "[A-Za-z0-9]{24,247}"),
        alnum_token(
            "stripe-restricted-key",
            "Stripe live restricted key",
            "rk_live_",
            "[A-Za-z0-9]{24,247}",
        ),
        Rule::new(
            "stripe-webhook-secret",
            "Stripe webhook signing secret",
            &["whsec_"],
            r"\b(whsec_[A-Za-z0-9+/=]{32,64})(?:[^A-Za-z0-9+/=]|$)",
        )
        .with_min_entropy(3.0),
        dashed_token(
            "square-access-token",
            "Square access token",
            &["eaaa", "sq0atp-"],
            r"(?:EAAA|sq0atp-)[A-Za-z0-9_\-]{22,60}",
        )
        .with_min_entropy(3.5),
        dashed_token(
            "square-oauth-secret",
            "Square OAuth application secret",
            &["sq0csp-"],
            r"sq0csp-[A-Za-z0-9_\-]{43}",
        ),
        Rule::new(
            "braintree-access-token",
            "PayPal Braintree production access token",
            &["access_token$production$"],
            r"(access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})\b",
        )
        .with_min_entropy(3.0),
        Rule::new(
            "shopify-access-token",
            "Shopify admin, custom-app or private-app access token",
            &["shpat_", "shpca_", "shppa_"],
            r"\b(shp(?:at|ca|pa)_[a-fA-F0-9]{32})\b",
        )
        .with_min_entropy(3.0),
        alnum_token("shopify-shared-secret", "Shopify app shared secret", "shpss_", "[a-fA-F0-9]{32}"),
        // --- Messaging and email ---------------------------------------------------------
        Rule::new(
            "twilio-api-key",
            "Twilio API key SID with its context (near the word Twilio)",
            &["twilio"],
            r"(?i:twilio)(?s:.){0,200}?\b(SK[0-9a-fA-F]{32})\b",
        )
        .with_min_entropy(3.0)
        .with_window(320),
        dashed_token(
            "sendgrid-api-key",
            "SendGrid API key",
            &["sg."],
            r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",
        ),
        alnum_token("mailgun-api-key", "Mailgun API key", "key-", "[0-9a-f]{32}"),
        Rule::new(
            "mailchimp-api-key",
            "Mailchimp API key",
            &["-us"],
            r"\b([0-9a-f]{32}-us[0-9]{1,2})\b",
        )
        .with_min_entropy(3.0),
        // --- Observability ---------------------------------------------------------------
        Rule::new(
            "datadog-api-key",
            "Datadog API or application key (assigned to a Datadog key name)",
            &["datadog", "dd_api", "dd_app", "dd-api", "dd-app"],
            &format!(
                r"(?i:datadog[\w.\-]{{0,20}}?|dd[_\-])(?i:api|app(?:lication)?)[_\-]?(?i:key){ASSIGN}([a-f0-9]{{32}}(?:[a-f0-9]{{8}})?)\b"
            ),
        )
        .with_min_entropy(3.0)
        .anchored_at_keyword(),
        alnum_token("new-relic-user-api-key", "New Relic user API key", "NRAK-", "[A-Z0-9]{27}"),
        dashed_token(
            "new-relic-insert-key",
            "New Relic insights insert key",
            &["nrii-"],
            r"NRII-[A-Za-z0-9_\-]{32}",
        ),
        Rule::new(
            "sentry-auth-token",
            "Sentry organisation or user auth token",
            &["sntrys_", "sntryu_"],
            r"\b(sntrys_eyJ[A-Za-z0-9+/=_]{60,}|sntryu_[a-f0-9]{64})(?:[^A-Za-z0-9+/=_]|$)",
        )
        .with_min_entropy(3.0)
        .with_window(512),
        alnum_token(
            "grafana-service-account-token",
            "Grafana service account token",
            "glsa_",
            "[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
        ),
        // --- AI providers ----------------------------------------------------------------
        Rule::new(
            "openai-api-key",
            "OpenAI API key (legacy, project, service-account or admin)",
            &["t3blbkfj", "sk-proj-", "sk-svcacct-", "sk-admin-"],
            r"\b(sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))(?:[^A-Za-z0-9_\-]|$)",
        )
        .with_min_entropy(3.5)
        .with_window(512),
        dashed_token(
            "anthropic-api-key",
            "Anthropic API key",
            &["sk-ant-"],
            r"sk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_\-]{80,120}",
        )
        .with_min_entropy(3.5),
        alnum_token("huggingface-token", "Hugging Face access token", "hf_", "[A-Za-z0-9]{34}")
            .with_min_entropy(3.5),
        alnum_token(
            "huggingface-org-token",
            "Hugging Face organisation API token",
            "api_org_",
            "[A-Za-z0-9]{34}",
        )
        .with_min_entropy(3.5),
        // --- Maps ------------------------------------------------------------------------
        dashed_token(
            "mapbox-secret-token",
            "Mapbox secret access token",
            &["sk.eyj"],
            r"sk\.eyJ[A-Za-z0-9_\-]{50,}\.[A-Za-z0-9_\-]{20,}",
        )
        .with_window(512),
        // --- Keys and generic shapes -----------------------------------------------------
        Rule::new(
            "age-secret-key",
            "age encryption secret key",
            &["age-secret-key-1"],
            r"(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
        ),
        Rule::new(
            "private-key-pem",
            "Private key in PEM or PGP armour (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP)",
            &["private key"],
            r"-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----(?:\r?\n|(?:\\r)?\\n)(?:[A-Za-z\-]+: [^\r\n\\]*(?:\r?\n|(?:\\r)?\\n))*(?:\r?\n|(?:\\r)?\\n)?([A-Za-z0-9+/=\r\n\t \\]{64,})",
        )
        .with_min_entropy(3.0)
        .with_window(16 * 1024),
        Rule::new(
            "jwt",
            "JSON Web Token (three base64url parts with a JSON header)",
            &["eyj"],
            r"\b(eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,})(?:[^A-Za-z0-9_\-]|$)",
        )
        .with_check(Check::JwtHeader)
        .with_window(4096),
        Rule::new(
            "database-url-password",
            "Database or message-broker URL with an embedded password",
            &[
                "postgres://", "postgresql://", "mysql://", "mariadb://", "mongodb://",
                "mongodb+srv://", "redis://", "rediss://", "amqp://", "amqps://", "mssql://",
                "sqlserver://", "clickhouse://",
            ],
            r#"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse)://[^\s:@/"'<>]{0,64}:([^\s@/"'<>]{3,128})@[A-Za-z0-9.\-_\[\]:]{1,255}"#,
        )
        .with_check(Check::NotPlaceholder),
        Rule::new(
            "generic-secret-assignment",
            "High-entropy value assigned to a password, secret, token or key name",
            &[
                "password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "api-key",
                "access_key", "auth_key", "credential",
            ],
            r#"(?i:(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|auth[_\-]?key|credentials?)[\w.\-]{0,20})["']?\s{0,5}(?:=>|:=|=|:)\s{0,5}(?:"([^"\s\\$]{12,128})"|'([^'\s\\$]{12,128})'|`([^`\s\\$]{12,128})`|([A-Za-z0-9+/=_\-.~!@#%^&*]{12,128})(?:[\s,;)\]}]|$))"#,
        )
        .with_secret(SecretPart::FirstGroup)
        .with_min_entropy(3.5)
        .with_check(Check::Assignment)
        // Key-name tail (20) + closing quote (1) + spaces (5) + operator.
        .with_assignment_within(28)
        .anchored_at_keyword(),
    ]
}

/// Escapes regex metacharacters of a literal prefix.
fn regex_escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    for c in literal.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
