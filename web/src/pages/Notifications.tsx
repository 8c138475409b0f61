// The person's notifications, newest first; unread ones marked. Marking read writes read_at
// (the only column owners may update) and refreshes the bell's count.
import { Link } from "react-router-dom";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useToast } from "../components/Toast";
import { Badge, Button, EmptyState, ErrorNotice, PageHeader, QueryView } from "../components/ui";
import { unwrap } from "../lib/api";
import { useAuth } from "../lib/auth";
import { describe } from "../lib/errors";
import { formatDateTime, formatRelative } from "../lib/format";
import { keys, type Notification } from "../lib/queries";
import { supabase } from "../lib/supabase";

const PAGE = 100;

/** Where a notification's subject lives in the app. */
const LINKS: Record<string, [string, string]> = {
  quota_warning: ["/usage", "See your usage"],
  plan_changed: ["/plans", "See your plan"],
  limits_changed: ["/plans", "See your limits"],
  agents_suspended: ["/agents", "Choose which agents stay active"],
  key_changed: ["/keys", "Review your provider keys"],
};

function useNotifications() {
  const { session } = useAuth();
  return useQuery({
    queryKey: [...keys.notifications, "list"],
    enabled: !!session,
    queryFn: async () =>
      unwrap<Notification[]>(
        await supabase()
          .from("notifications")
          .select("id,kind,title,body,data,created_at,read_at")
          .order("created_at", { ascending: false })
          .order("id", { ascending: false })
          .limit(PAGE),
      ),
  });
}

function NotificationItem({
  n,
  busy,
  onMarkRead,
}: {
  n: Notification;
  busy: boolean;
  onMarkRead: () => void;
}) {
  const link = LINKS[n.kind];
  const isUnread = !n.read_at;
  return (
    <li
      aria-label={`${isUnread ? "Unread: " : ""}${n.title}`}
      className={`rounded-lg border p-4 ${
        isUnread
          ? "border-indigo-300 bg-indigo-50 dark:border-indigo-700 dark:bg-indigo-950"
          : "border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-900"
      }`}
    >
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0 flex-1">
          <h2 className={`text-base ${isUnread ? "font-semibold" : "font-medium"}`}>
            {isUnread && (
              <span className="mr-2 align-middle">
                <Badge tone="info">Unread</Badge>
              </span>
            )}
            {n.title}
          </h2>
          <p className="mt-1 text-sm break-words text-slate-700 dark:text-slate-200">{n.body}</p>
          <p className="mt-2 text-xs text-slate-600 dark:text-slate-300">
            <time dateTime={n.created_at} title={formatDateTime(n.created_at)}>
              {formatRelative(n.created_at)}
            </time>
            {link && (
              <>
                {" · "}
                <Link to={link[0]}>{link[1]}</Link>
              </>
            )}
          </p>
        </div>
        {isUnread && (
          <Button
            variant="secondary"
            aria-label={`Mark as read: ${n.title}`}
            busy={busy}
            onClick={onMarkRead}
          >
            Mark as read
          </Button>
        )}
      </div>
    </li>
  );
}

export default function Notifications() {
  const { session } = useAuth();
  const list = useNotifications();
  const queryClient = useQueryClient();
  const toast = useToast();

  const markRead = useMutation({
    mutationFn: async (ids: number[] | "all") => {
      let query = supabase()
        .from("notifications")
        .update({ read_at: new Date().toISOString() })
        .eq("user_id", session!.user.id)
        .is("read_at", null);
      if (ids !== "all") query = query.in("id", ids);
      unwrap(await query);
    },
    onSuccess: (_data, ids) => {
      if (ids === "all") toast({ tone: "success", title: "All notifications marked as read" });
    },
    // Both the list and the bell's count live under keys.notifications.
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.notifications }),
  });

  const unread = list.data?.filter((n) => !n.read_at).length ?? 0;

  return (
    <>
      <PageHeader
        title="Notifications"
        description={
          list.data
            ? unread
              ? `${unread} unread`
              : "You are all caught up."
            : "Plan changes, quota warnings, paused agents and key changes."
        }
        actions={
          unread > 0 && (
            <Button
              variant="secondary"
              busy={markRead.isPending && markRead.variables === "all"}
              onClick={() => markRead.mutate("all")}
            >
              Mark all as read
            </Button>
          )
        }
      />
      <div className="space-y-4">
        <ErrorNotice
          error={markRead.error ? describe(markRead.error) : null}
          title="Could not mark as read"
        />
        <QueryView
          query={list}
          loading="Loading notifications…"
          failed="Could not load your notifications"
        >
          {(notifications) =>
            notifications.length ? (
              <ul aria-label="Notifications" className="space-y-3">
                {notifications.map((n) => (
                  <NotificationItem
                    key={n.id}
                    n={n}
                    busy={
                      markRead.isPending &&
                      Array.isArray(markRead.variables) &&
                      markRead.variables.includes(n.id)
                    }
                    onMarkRead={() => markRead.mutate([n.id])}
                  />
                ))}
              </ul>
            ) : (
              <EmptyState title="No notifications yet">
                You will be told here (and by email) about plan changes, quota warnings, paused
                agents and provider key changes.
              </EmptyState>
            )
          }
        </QueryView>
        {list.data && list.data.length >= PAGE && (
          <p className="text-sm text-slate-600 dark:text-slate-300">
            Showing the latest {PAGE} notifications.
          </p>
        )}
      </div>
    </>
  );
}
