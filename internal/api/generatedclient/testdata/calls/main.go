// Command calls is compiled by TestGeneratedClientCompilesAndCalls together
// with the client that oapi-codegen wrote from stocktrail's OpenAPI
// description, and calls a running server through that client only: it is
// what a customer's program would do. It prints what it saw as JSON; the
// test compares that with the database.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	client "generatedclient/stocktrailclient"
)

// Seen is what the calls answered, for the test to check.
type Seen struct {
	ItemID            int      `json:"item_id"`
	ReceiptQuantities []string `json:"receipt_quantities"`
	ListedSKUs        []string `json:"listed_skus"`
	AuditLogID        int      `json:"audit_log_id"`
	ReplayedID        int      `json:"replayed_id"`
	Replayed          string   `json:"replayed"`
	ReadBackTable     string   `json:"read_back_table"`
	RefusedStatus     int      `json:"refused_status"`
	RefusedFields     []string `json:"refused_fields"`
}

func main() {
	seen, err := call(context.Background(), os.Getenv("STOCKTRAIL_URL"), os.Getenv("STOCKTRAIL_TOKEN"), os.Getenv("STOCKTRAIL_SKU"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(seen); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func call(ctx context.Context, base, token, sku string) (Seen, error) {
	var seen Seen
	c, err := client.NewClientWithResponses(base, client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		return seen, err
	}

	unit, scale := "kg", 3
	item, err := c.CreateItemWithResponse(ctx, &client.CreateItemParams{}, client.ItemInput{Sku: sku, Name: "Bolt made by the generated client", Unit: &unit, Scale: &scale})
	if err != nil {
		return seen, fmt.Errorf("create item: %w", err)
	}
	if item.JSON201 == nil || item.JSON201.Id == nil {
		return seen, fmt.Errorf("create item: %d %s", item.StatusCode(), item.Body)
	}
	seen.ItemID = *item.JSON201.Id

	location, err := c.CreateLocationWithResponse(ctx, &client.CreateLocationParams{}, client.LocationInput{Code: "GEN"})
	if err != nil {
		return seen, fmt.Errorf("create location: %w", err)
	}
	if location.JSON201 == nil {
		return seen, fmt.Errorf("create location: %d %s", location.StatusCode(), location.Body)
	}

	// A decimal goes as a string or as a JSON number: the description's
	// oneOf gives the client one constructor for each.
	var asString, asNumber client.Receipt_Quantity
	if err := asString.FromReceiptQuantity0("12.5"); err != nil {
		return seen, err
	}
	if err := asNumber.FromReceiptQuantity1(0.25); err != nil {
		return seen, err
	}
	where := "GEN"
	for i, quantity := range []client.Receipt_Quantity{asString, asNumber} {
		key := fmt.Sprintf("generated-client-receipt-%d", i)
		receipt, err := c.CreateInventoryReceiptWithResponse(ctx, &client.CreateInventoryReceiptParams{IdempotencyKey: &key},
			client.Receipt{Sku: &sku, Location: &where, Quantity: quantity})
		if err != nil {
			return seen, fmt.Errorf("receipt: %w", err)
		}
		if receipt.JSON201 == nil || receipt.JSON201.Records == nil || len(*receipt.JSON201.Records) != 1 || (*receipt.JSON201.Records)[0].Quantity == nil {
			return seen, fmt.Errorf("receipt: %d %s", receipt.StatusCode(), receipt.Body)
		}
		seen.ReceiptQuantities = append(seen.ReceiptQuantities, *(*receipt.JSON201.Records)[0].Quantity)
	}

	// A quantity outside the decimal grammar is refused with a problem
	// document the client decodes, naming the field.
	var bad client.Receipt_Quantity
	if err := bad.FromReceiptQuantity0("1e3"); err != nil {
		return seen, err
	}
	refused, err := c.CreateInventoryReceiptWithResponse(ctx, &client.CreateInventoryReceiptParams{}, client.Receipt{Sku: &sku, Location: &where, Quantity: bad})
	if err != nil {
		return seen, fmt.Errorf("bad receipt: %w", err)
	}
	seen.RefusedStatus = refused.StatusCode()
	if p := refused.ApplicationproblemJSON422; p != nil && p.Errors != nil {
		for field := range *p.Errors {
			seen.RefusedFields = append(seen.RefusedFields, field)
		}
	}

	items, err := c.ListItemsWithResponse(ctx, &client.ListItemsParams{Q: &sku})
	if err != nil {
		return seen, fmt.Errorf("list items: %w", err)
	}
	if items.JSON200 == nil {
		return seen, fmt.Errorf("list items: %d %s", items.StatusCode(), items.Body)
	}
	for _, it := range items.JSON200.Data {
		if it.Sku != nil {
			seen.ListedSKUs = append(seen.ListedSKUs, *it.Sku)
		}
	}

	// An audit-log entry, sent twice with one key: the second answer is the
	// first one replayed, and the entry is logged once.
	var recordID client.NewAuditLog_RecordId
	if err := recordID.FromNewAuditLogRecordId1(seen.ItemID); err != nil {
		return seen, err
	}
	description := "Checked by the generated client"
	entry := client.NewAuditLog{Action: "UPDATE", TableName: "erp_items", RecordId: &recordID, Description: &description,
		NewValues: &map[string]any{"sku": sku}}
	key := client.IdempotencyKey("generated-client-audit-log")
	for attempt := 0; attempt < 2; attempt++ {
		logged, err := c.CreateAuditLogWithResponse(ctx, &client.CreateAuditLogParams{IdempotencyKey: &key}, entry)
		if err != nil {
			return seen, fmt.Errorf("audit log: %w", err)
		}
		if logged.JSON201 == nil {
			return seen, fmt.Errorf("audit log: %d %s", logged.StatusCode(), logged.Body)
		}
		if attempt == 0 {
			seen.AuditLogID = logged.JSON201.Id
		} else {
			seen.ReplayedID = logged.JSON201.Id
			seen.Replayed = logged.HTTPResponse.Header.Get("Idempotent-Replayed")
		}
	}
	got, err := c.GetAuditLogWithResponse(ctx, seen.AuditLogID)
	if err != nil {
		return seen, fmt.Errorf("read audit log: %w", err)
	}
	if got.JSON200 == nil || got.JSON200.Data.TableName == nil {
		return seen, fmt.Errorf("read audit log: %d %s", got.StatusCode(), got.Body)
	}
	seen.ReadBackTable = *got.JSON200.Data.TableName
	return seen, nil
}
