//! The core scenario against moto, a third-party AWS emulator.

mod scenario;
mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_apply_plan_across_three_accounts() {
    let moto = support::moto();
    let (alpha, beta) = (support::fresh_account(), support::fresh_account());
    scenario::run(&moto.endpoint(), &alpha, &beta).await;
}
