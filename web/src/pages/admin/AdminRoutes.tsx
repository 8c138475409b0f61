// PLACEHOLDER: the admin console is being written.
export default function AdminRoutes() {
  return <h1>Admin</h1>;
}
