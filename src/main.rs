fn main() {
    use kube::CustomResourceExt;
    for crd in [
        idgap::resources::SalesforceIntegration::crd(),
        idgap::resources::IdentityProvider::crd(),
        idgap::resources::AccessFinding::crd(),
    ] {
        println!("---\n{}", serde_yaml::to_string(&crd).unwrap());
    }
}
