//! `chat-admin`: operates a Chat API deployment from outside Lambda.
//!
//! It talks to DynamoDB and SES with the normal AWS settings (profile, region,
//! credentials), so the same commands work against the deployed table and, with
//! `AWS_ENDPOINT_URL`, against the local moto stack.

// Output goes through `say`, which survives a closed pipe.
#![deny(clippy::print_stdout)]

use std::io::BufRead;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::ProvideCredentials;

use clap::{Parser, Subcommand};
use serde_json::json;
use services::aws_sdk_secretsmanager::Client as SecretsClient;
use storage::Db;

/// Where `make dev` keeps its settings, and how to load them into a shell.
const LOCAL_SETTINGS: &str =
    "for make dev's local stack run `set -a; . .local/dev.env; set +a` first";

#[derive(Parser)]
#[command(
    name = "chat-admin",
    version,
    about = "Operate a Chat API deployment: table, mail sender, users, API tokens, keys.",
    after_help = "\
Settings come from the environment, as for any AWS tool:
  make dev's local stack:  set -a; . .local/dev.env; set +a   (endpoint, dummy credentials, table)
  a deployed stack:        AWS_PROFILE (or other credentials), AWS_REGION, TABLE_NAME=<TableName output>,
                           KEYS_SECRET_ID=<KeysSecretArn output> (token issue, secret rotate)

Examples:
  chat-admin user create --email ops@example.com --name \"Ops\" --password-stdin
  chat-admin token issue --email ops@example.com --name laptop"
)]
struct Cli {
    /// The DynamoDB table: the stack's `TableName` output when deployed. The default is
    /// the table of `make dev`.
    #[arg(
        long,
        env = "TABLE_NAME",
        global = true,
        default_value = "chat-api-dev"
    )]
    table: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The DynamoDB table.
    #[command(subcommand, after_help = "Example:\n  chat-admin table create")]
    Table(TableCommand),
    /// The SES sender identity.
    #[command(
        subcommand,
        after_help = "Example:\n  chat-admin mail verify-sender example.com"
    )]
    Mail(MailCommand),
    /// Operator accounts.
    #[command(
        subcommand,
        after_help = "Examples:\n  chat-admin user create --email ops@example.com --name \"Ops\" --password-stdin\n  chat-admin user delete --email ops@example.com"
    )]
    User(UserCommand),
    /// Personal API tokens.
    #[command(
        subcommand,
        after_help = "Examples:\n  chat-admin token issue --email ops@example.com --name laptop\n  chat-admin token list --email ops@example.com"
    )]
    Token(TokenCommand),
    /// The signing keys (one Secrets Manager secret).
    #[command(
        subcommand,
        after_help = "Examples:\n  chat-admin secret rotate\n  chat-admin secret rotate --discard-current   # a key that leaked: everything it signed stops now"
    )]
    Secret(SecretCommand),
    /// Moves a table from before teams to the layout teams need: each company into a
    /// partition of its own with its owner as its `owner` member, its webhook endpoints
    /// with it, and its chats indexed under it. Run once after deploying this version;
    /// safe to run again (a run stopped part-way finishes what is left). It scans the
    /// table: the old items have no index.
    #[command(after_help = "Example:\n  TABLE_NAME=<TableName output> chat-admin migrate")]
    Migrate,
}

/// The secret that holds the keys: the stack's `KeysSecretArn` output (`make dev` puts its
/// local one in .local/dev.env).
#[derive(clap::Args)]
struct KeysSecret {
    /// The keys secret's ARN or name: the stack's KeysSecretArn output (make dev's is in
    /// .local/dev.env).
    #[arg(long = "keys-secret-id", env = "KEYS_SECRET_ID", value_name = "ARN")]
    id: String,
}

#[derive(Subcommand)]
enum SecretCommand {
    /// A new key signs from now on. The current one retires: it still verifies what it
    /// signed (tokens, codes, unsubscribe links) for the rotation window (by default the
    /// chat-user token lifetime, 30 days), then stops. The key retired before is dropped.
    #[command(
        after_help = "Example:\n  KEYS_SECRET_ID=<KeysSecretArn output> chat-admin secret rotate"
    )]
    Rotate {
        #[command(flatten)]
        secret: KeysSecret,
        /// Retire the current key without a window: every token, code and link it
        /// signed stops working (warm functions stop trusting it within an hour).
        #[arg(long)]
        discard_current: bool,
    },
}

#[derive(Subcommand)]
enum TableCommand {
    /// Create the table as template.yaml defines it (keys, GSI1, TTL); for local stacks,
    /// since `sam deploy` creates the real one.
    #[command(
        after_help = "Example (make dev does this itself):\n  TABLE_NAME=chat-api-dev chat-admin table create"
    )]
    Create,
}

#[derive(Subcommand)]
enum MailCommand {
    /// Register the sender identity (an address or a domain) with SES.
    #[command(
        after_help = "Examples:\n  chat-admin mail verify-sender example.com         # a domain: DNS records to add\n  chat-admin mail verify-sender chat@example.com    # one address: a confirmation link"
    )]
    VerifySender {
        /// E.g. `chat@example.com` or `example.com`.
        identity: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an operator. The password comes from --password-stdin (one line) or
    /// CHAT_ADMIN_PASSWORD, never from a flag (it would land in shell history).
    #[command(
        after_help = "Examples:\n  chat-admin user create --email ops@example.com --name \"Ops\" --password-stdin   # then type the password\n  CHAT_ADMIN_PASSWORD=\"$PW\" chat-admin user create --email ops@example.com --name \"Ops\""
    )]
    Create {
        /// The operator's login email (unique).
        #[arg(long)]
        email: String,
        /// The operator's display name.
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete an operator with everything it owns: companies, chats (with their chat
    /// users and messages), webhook endpoints and API tokens.
    #[command(after_help = "Example:\n  chat-admin user delete --email ops@example.com")]
    Delete {
        /// The operator's login email.
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue an API token for a user; prints the secret once. Signs with the current key
    /// of the keys secret (KEYS_SECRET_ID).
    #[command(
        after_help = "Examples:\n  chat-admin token issue --email ops@example.com --name laptop\n  TOKEN=$(chat-admin token issue --email ops@example.com --quiet)"
    )]
    Issue {
        #[command(flatten)]
        secret: KeysSecret,
        /// The operator's login email.
        #[arg(long)]
        email: String,
        /// A label for the token, shown by `token list` (e.g. the integration using it).
        #[arg(long, default_value = "chat-admin")]
        name: String,
        /// Print only the token (for scripts).
        #[arg(long)]
        quiet: bool,
    },
    /// List a user's API tokens (never their secrets).
    #[command(after_help = "Example:\n  chat-admin token list --email ops@example.com")]
    List {
        /// The operator's login email.
        #[arg(long)]
        email: String,
    },
    /// Revoke one of a user's API tokens; it stops working at once.
    #[command(
        after_help = "Example (the id comes from `token list`):\n  chat-admin token revoke --email ops@example.com --id 01JD3Z8K4Q6W9XG5M2T7RVBN0C"
    )]
    Revoke {
        /// The operator's login email.
        #[arg(long)]
        email: String,
        /// The token's id, from `token list`.
        #[arg(long)]
        id: String,
    },
}

fn read_password(from_stdin: bool) -> Result<String, chat_admin::Error> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    std::env::var("CHAT_ADMIN_PASSWORD")
        .map_err(|_| "give the password with --password-stdin or CHAT_ADMIN_PASSWORD".into())
}

/// Prints `value` as pretty JSON (see `say`).
fn print(value: impl serde::Serialize) {
    say(&serde_json::to_string_pretty(&value).unwrap_or_default());
}

/// Prints one line on stdout, the only way this tool writes there (`print_stdout` is denied
/// above). A closed pipe (`chat-admin … | head`) means the reader wants no more: the
/// command ends quietly with success, where `println!` would panic. Any other write error
/// is one.
fn say(text: &str) {
    use std::io::Write;
    let written = writeln!(std::io::stdout().lock(), "{text}");
    match written {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(err) => {
            eprintln!("chat-admin: writing to stdout: {err}");
            std::process::exit(1);
        }
    }
}

/// What every command needs from the environment, checked before the first AWS call: a
/// missing setting is one line with its fix, not the SDK's error dump (the default
/// credentials chain ends at EC2's metadata service, whose refusal is what a laptop gets).
async fn check_settings(aws: &SdkConfig) -> Result<(), String> {
    let credentials = match aws.credentials_provider() {
        Some(provider) => provider.provide_credentials().await.is_ok(),
        None => false,
    };
    if !credentials {
        return Err(format!(
            "no AWS credentials: {LOCAL_SETTINGS}; for AWS set AWS_PROFILE (or run `aws configure`)"
        ));
    }
    if aws.region().is_none() {
        return Err(format!("no AWS region: set AWS_REGION ({LOCAL_SETTINGS})"));
    }
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL")
        && !answers(&endpoint)
    {
        return Err(format!(
            "nothing answers at AWS_ENDPOINT_URL={endpoint}: start `make dev`, or unset it to use AWS"
        ));
    }
    Ok(())
}

/// Whether something accepts a TCP connection at the host and port of `url`.
fn answers(url: &str) -> bool {
    let (default_port, rest) = match url.split_once("://") {
        Some(("https", rest)) => (443, rest),
        Some((_, rest)) => (80, rest),
        None => (80, url),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:{default_port}")
    };
    with_port.to_socket_addrs().is_ok_and(|mut addrs| {
        addrs.any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    if let Err(err) = run(cli).await {
        eprintln!("chat-admin: {}", sdk::Chain(err.as_ref()));
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), chat_admin::Error> {
    // The functions' budgets: a frozen or unreachable AWS fails a command within seconds
    // instead of hanging it (they leave room for a laptop's round trips too).
    let aws = sdk::load().await;
    check_settings(&aws).await?;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let db = Db::new(dynamo.clone(), cli.table.clone());
    match cli.command {
        Command::Table(TableCommand::Create) => {
            let created = chat_admin::create_table(&dynamo, &cli.table).await?;
            let state = if created { "created" } else { "already exists" };
            say(&format!("table {}: {state}", cli.table));
        }
        Command::Mail(MailCommand::VerifySender { identity }) => {
            chat_admin::verify_sender(&aws_sdk_sesv2::Client::new(&aws), &identity).await?;
            say(&format!(
                "sender identity {identity}: registered (on AWS, finish its verification by email or DNS)"
            ));
        }
        Command::User(UserCommand::Create {
            email,
            name,
            password_stdin,
        }) => {
            let password = read_password(password_stdin)?;
            let user = chat_admin::create_user(&db, &email, &name, &password).await?;
            print(user.resource());
        }
        Command::User(UserCommand::Delete { email }) => {
            let (user, with_it) = chat_admin::delete_user(&db, &email).await?;
            print(json!({ "deleted": user.resource(), "with_it": with_it }));
        }
        Command::Token(TokenCommand::Issue {
            secret,
            email,
            name,
            quiet,
        }) => {
            let keys = chat_admin::keys(&SecretsClient::new(&aws), &secret.id).await?;
            let user = chat_admin::find_user(&db, &email).await?;
            let (token, record) = chat_admin::issue_token(&db, &keys, &user, &name).await?;
            if quiet {
                say(&token);
            } else {
                print(
                    json!({ "token": token, "token_type": "Bearer", "api_token": record.resource() }),
                );
            }
        }
        Command::Token(TokenCommand::List { email }) => {
            let user = chat_admin::find_user(&db, &email).await?;
            let tokens = chat_admin::all_tokens(&db, user.id).await?;
            print(json!(
                tokens.iter().map(|t| t.resource()).collect::<Vec<_>>()
            ));
        }
        Command::Token(TokenCommand::Revoke { email, id }) => {
            let user = chat_admin::find_user(&db, &email).await?;
            let record = chat_admin::revoke_token(&db, user.id, &id).await?;
            print(json!({ "revoked": record.resource() }));
        }
        Command::Migrate => {
            let migrated = storage::migrate::legacy_companies(&db).await?;
            print(json!({ "migrated": migrated }));
        }
        Command::Secret(SecretCommand::Rotate {
            secret,
            discard_current,
        }) => {
            let rotation =
                chat_admin::rotate_keys(&SecretsClient::new(&aws), &secret.id, discard_current)
                    .await?;
            print(json!({
                "kid": rotation.kid,
                "retired_kid": rotation.retired_kid,
                "retired_key_verifies": if discard_current { "no" } else { "during the rotation window" },
                "dropped_kid": rotation.dropped_kid,
            }));
        }
    }
    Ok(())
}
