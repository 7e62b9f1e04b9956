package assets

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // decoders registered so DecodeConfig can check uploads
	_ "image/png"
	"net/http"
	"time"

	_ "golang.org/x/image/webp"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// MaxPhotoBytes caps one photo. Phone photos are 2–5 MB; more is a mistake
// or an attack, and photos live in the database.
const MaxPhotoBytes = 8 << 20

// maxPhotoPixels refuses images whose header claims absurd dimensions
// (decompression bombs), even when the file itself is small.
const maxPhotoPixels = 50_000_000

// Photo describes a stored photo (without its bytes).
type Photo struct {
	ID          int64     `json:"id"`
	AssetID     int64     `json:"asset_id"`
	SessionID   int64     `json:"session_id,omitempty"`
	Applied     bool      `json:"applied"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	UploadedBy  string    `json:"uploaded_by"`
	UploadedAt  time.Time `json:"uploaded_at"`
}

// checkPhoto decides the content type from the bytes themselves, never from
// what the client claims: only JPEG, PNG and WebP whose header decodes are
// accepted, so a script renamed .jpg is refused and nothing stored is ever
// served as anything but an image.
func checkPhoto(data []byte) (string, error) {
	if len(data) == 0 {
		return "", fault.Field("photo", "the file is empty")
	}
	if len(data) > MaxPhotoBytes {
		return "", &fault.Error{Kind: fault.TooLarge, Message: fmt.Sprintf("the photo is larger than %d MB", MaxPhotoBytes>>20),
			Fields: map[string]string{"photo": "too large"}}
	}
	ct := http.DetectContentType(data)
	switch ct {
	case "image/jpeg", "image/png", "image/webp":
	default:
		return "", &fault.Error{Kind: fault.UnsupportedMedia, Message: "the photo must be a JPEG, PNG or WebP image",
			Fields: map[string]string{"photo": "not a JPEG, PNG or WebP image"}}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return "", &fault.Error{Kind: fault.UnsupportedMedia, Message: "the photo is not a readable image",
			Fields: map[string]string{"photo": "not a readable image"}}
	}
	if cfg.Width*cfg.Height > maxPhotoPixels {
		return "", &fault.Error{Kind: fault.TooLarge, Message: "the photo has too many pixels", Fields: map[string]string{"photo": "too many pixels"}}
	}
	return ct, nil
}

// AddAssetPhoto stores a photo of an asset directly (outside any session).
func AddAssetPhoto(ctx context.Context, db *store.DB, assetID int64, data []byte) (Photo, error) {
	who, err := actor.Require(ctx, actor.ManageAssets)
	if err != nil {
		return Photo{}, err
	}
	ct, err := checkPhoto(data)
	if err != nil {
		return Photo{}, err
	}
	var p Photo
	err = db.InTx(ctx, func(tx *store.Tx) error {
		a, err := getAsset(ctx, tx, who.WorkspaceID, assetID)
		if err != nil {
			return err
		}
		if err := refuseRemoved(a, "add photos"); err != nil {
			return err
		}
		p, err = insertPhoto(ctx, tx, who, assetID, 0, ct, data)
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "assets",
			EntityID: fmt.Sprint(assetID), New: map[string]any{"photo_id": p.ID, "content_type": ct, "size": len(data)},
			Description: "photo added to asset " + a.Tag})
		return err
	})
	return p, err
}

// StagePhoto stores a photo taken during an In progress session; it joins
// the asset when the session finishes.
func StagePhoto(ctx context.Context, db *store.DB, sessionID, assetID int64, data []byte) (Photo, error) {
	who, err := actor.Require(ctx, actor.RunSessions)
	if err != nil {
		return Photo{}, err
	}
	ct, err := checkPhoto(data)
	if err != nil {
		return Photo{}, err
	}
	var p Photo
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockInProgress(ctx, tx, who.WorkspaceID, sessionID, "stage photos"); err != nil {
			return err
		}
		if err := requireListed(ctx, tx, who.WorkspaceID, sessionID, assetID); err != nil {
			return err
		}
		p, err = insertPhoto(ctx, tx, who, assetID, sessionID, ct, data)
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
			EntityID: fmt.Sprint(sessionID), New: map[string]any{"asset_id": assetID, "photo_id": p.ID, "content_type": ct, "size": len(data)},
			Description: fmt.Sprintf("photo staged for asset %d", assetID)})
		return err
	})
	return p, err
}

func insertPhoto(ctx context.Context, tx *store.Tx, who actor.Actor, assetID, sessionID int64, ct string, data []byte) (Photo, error) {
	p := Photo{AssetID: assetID, SessionID: sessionID, Applied: sessionID == 0, ContentType: ct, Size: int64(len(data)),
		UploadedBy: who.Name, UploadedAt: time.Now().UTC()}
	err := tx.QueryRowContext(ctx, `INSERT INTO asset_photos (workspace_id, asset_id, session_id, applied, content_type, size_bytes, data, uploaded_by, uploaded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, who.WorkspaceID, assetID, nullID(sessionID), boolInt(p.Applied), ct,
		p.Size, data, who.Name, store.Micros(p.UploadedAt)).Scan(&p.ID)
	return p, err
}

// ListAssetPhotos lists an asset's photos: those applied, and those staged in sessions.
func ListAssetPhotos(ctx context.Context, db *store.DB, assetID int64) ([]Photo, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, err
	}
	// An asset that is not the workspace's is not found, as everywhere
	// else, rather than an empty list.
	var n int
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM assets WHERE workspace_id = $1 AND id = $2`, who.WorkspaceID, assetID).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fault.New(fault.NotFound, "asset not found")
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT id, asset_id, COALESCE(session_id, 0), applied, content_type, size_bytes, uploaded_by, uploaded_at
		FROM asset_photos WHERE workspace_id = $1 AND asset_id = $2 ORDER BY id`, who.WorkspaceID, assetID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Photo
	for rows.Next() {
		var p Photo
		var applied int
		var at int64
		if err := rows.Scan(&p.ID, &p.AssetID, &p.SessionID, &applied, &p.ContentType, &p.Size, &p.UploadedBy, &at); err != nil {
			return nil, err
		}
		p.Applied, p.UploadedAt = applied != 0, store.Time(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// GetPhotoData returns one photo's bytes and its checked content type.
func GetPhotoData(ctx context.Context, db *store.DB, photoID int64) ([]byte, string, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, "", err
	}
	var data []byte
	var ct string
	err = db.Read().QueryRowContext(ctx, `SELECT data, content_type FROM asset_photos WHERE workspace_id = $1 AND id = $2`, who.WorkspaceID, photoID).Scan(&data, &ct)
	return data, ct, store.NotFound(err, "photo")
}
