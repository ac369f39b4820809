DROP TABLE IF EXISTS webhook_deliveries, webhooks, notice_done;
