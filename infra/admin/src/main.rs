//! `chat-admin`: operates a Chat API deployment from outside Lambda.
//!
//! It talks to DynamoDB and SES with the normal AWS settings (profile, region,
//! credentials), so the same commands work against the deployed table and, with
//! `AWS_ENDPOINT_URL`, against the local moto stack.

use std::io::BufRead;

use clap::{Parser, Subcommand};
use serde_json::json;
use shared::auth::TokenKeys;
use shared::config::Secret;
use shared::db::Db;

#[derive(Parser)]
#[command(
    name = "chat-admin",
    version,
    about = "Operate a Chat API deployment: table, mail sender, users, API tokens."
)]
struct Cli {
    /// The DynamoDB table (the stack's `TableName` output).
    #[arg(long, env = "TABLE_NAME", global = true, default_value = "chat-api")]
    table: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The DynamoDB table.
    #[command(subcommand)]
    Table(TableCommand),
    /// The SES sender identity.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Operator accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TableCommand {
    /// Create the table as template.yaml defines it (keys, GSI1, TTL); for local stacks,
    /// since `sam deploy` creates the real one.
    Create,
}

#[derive(Subcommand)]
enum MailCommand {
    /// Register the sender identity (an address or a domain) with SES.
    VerifySender {
        /// E.g. `chat@example.com` or `example.com`.
        identity: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an operator. The password comes from --password-stdin (one line) or
    /// CHAT_ADMIN_PASSWORD, never from a flag (it would land in shell history).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete an operator with its API tokens.
    Delete {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue an API token for a user; prints the secret once. Needs TOKEN_SECRET (the
    /// deployment's signing secret).
    Issue {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "chat-admin")]
        name: String,
        /// Print only the token (for scripts).
        #[arg(long)]
        quiet: bool,
    },
    /// List a user's API tokens (never their secrets).
    List {
        #[arg(long)]
        email: String,
    },
    /// Revoke one of a user's API tokens; it stops working at once.
    Revoke {
        #[arg(long)]
        email: String,
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

fn token_keys() -> Result<TokenKeys, chat_admin::Error> {
    let secret = std::env::var("TOKEN_SECRET")
        .map_err(|_| "TOKEN_SECRET must hold the deployment's signing secret")?;
    Ok(TokenKeys::new(Secret::new(secret.into_bytes()).expose()))
}

fn print(value: serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    if let Err(err) = run(cli).await {
        eprintln!("chat-admin: {err}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), chat_admin::Error> {
    // The functions' budgets: a frozen or unreachable AWS fails a command within seconds
    // instead of hanging it (they leave room for a laptop's round trips too).
    let aws = shared::aws::load().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let db = Db::new(dynamo.clone(), cli.table.clone());
    match cli.command {
        Command::Table(TableCommand::Create) => {
            let created = chat_admin::create_table(&dynamo, &cli.table).await?;
            let state = if created { "created" } else { "already exists" };
            println!("table {}: {state}", cli.table);
        }
        Command::Mail(MailCommand::VerifySender { identity }) => {
            chat_admin::verify_sender(&aws_sdk_sesv2::Client::new(&aws), &identity).await?;
            println!(
                "sender identity {identity}: registered (on AWS, finish its verification by email or DNS)"
            );
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
            let user = chat_admin::delete_user(&db, &email).await?;
            print(json!({ "deleted": user.resource() }));
        }
        Command::Token(TokenCommand::Issue { email, name, quiet }) => {
            let keys = token_keys()?;
            let user = chat_admin::find_user(&db, &email).await?;
            let (token, record) = chat_admin::issue_token(&db, &keys, &user, &name).await?;
            if quiet {
                println!("{token}");
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
    }
    Ok(())
}
